// Address helpers for route, DNS and ifconfig arguments. Strict: what they accept is what the
// helper can install without interpretation.

export function parseIpv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    value = value * 256 + n;
  }
  return value;
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(value / 2 ** s) % 256).join('.');
}

/** Prefix length of a contiguous netmask ("255.255.0.0" -> 16), or null if not contiguous. */
export function netmaskToPrefix(mask: string): number | null {
  const v = parseIpv4(mask);
  if (v === null) return null;
  const bits = v.toString(2).padStart(32, '0');
  const prefix = bits.indexOf('0') === -1 ? 32 : bits.indexOf('0');
  return bits.slice(prefix).includes('1') ? null : prefix;
}

/** Zeroes host bits: ("10.1.2.3", 16) -> "10.1.0.0". */
export function maskIpv4(address: number, prefix: number): number {
  if (prefix === 0) return 0;
  const hostBits = 2 ** (32 - prefix);
  return Math.floor(address / hostBits) * hostBits;
}

export function isIpv6(text: string): boolean {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || !text.includes(':')) return false;
  const doubleColons = text.split('::').length - 1;
  if (doubleColons > 1) return false;
  let groups = text.split(':');
  // An embedded IPv4 tail counts as two groups.
  const last = groups[groups.length - 1]!;
  if (last.includes('.')) {
    if (parseIpv4(last) === null) return false;
    groups = [...groups.slice(0, -1), '0', '0'];
  }
  if (doubleColons === 0) return groups.length === 8 && groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g));
  const nonEmpty = groups.filter((g) => g !== '');
  return nonEmpty.length <= 7 && nonEmpty.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g));
}

/** "2000::/3" -> {address, prefix}; null when malformed. Without "/bits", /64 (as OpenVPN). */
export function parseIpv6Cidr(text: string): { address: string; prefix: number } | null {
  const slash = text.lastIndexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const prefixText = slash < 0 ? '64' : text.slice(slash + 1);
  if (!isIpv6(address) || !/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  return prefix <= 128 ? { address: address.toLowerCase(), prefix } : null;
}

/** A DNS name as it may appear in remote, DOMAIN or DOMAIN-ROUTE ("." = the root). */
export function isHostname(text: string): boolean {
  if (text.length === 0 || text.length > 253) return false;
  return text.split('.').every((label, i, all) => (label === '' ? i === all.length - 1 && i > 0 : /^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/.test(label)));
}
