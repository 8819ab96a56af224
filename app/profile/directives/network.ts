// Routing and DNS directives: routes (CIDR), redirect-gateway, dhcp-option and --dns, IPv6.
import { ProfileError } from '../errors.js';
import type { Directive } from '../lexer.js';
import { formatIpv4, isHostname, isIpv6, maskIpv4, netmaskToPrefix, parseIpv4, parseIpv6Cidr } from '../net.js';
import type { Normalizer } from '../normalizer.js';
import type { Handler } from './handler.js';

/** "10.0.0.0" + "255.255.0.0" -> "10.0.0.0/16" (host bits cleared, with a warning). */
function ipv4Route(n: Normalizer, dir: Directive, network: string, mask: string): string {
  const net = parseIpv4(network);
  if (net === null) {
    throw new ProfileError(`route: "${network}" is not an IPv4 network address (names are not resolved in profiles)`, dir.line, dir.name);
  }
  const prefix = netmaskToPrefix(mask);
  if (prefix === null) throw new ProfileError(`route: "${mask}" is not a valid netmask`, dir.line, dir.name);
  const masked = maskIpv4(net, prefix);
  if (masked !== net) n.warn(dir, `route ${network} ${mask} has host bits set; using ${formatIpv4(masked)}/${prefix}`);
  return `${formatIpv4(masked)}/${prefix}`;
}

export const networkHandlers: Record<string, Handler> = {
  'route-nopull'(dir) {
    this.args(dir, 0, 0);
    this.d.routeNoPull = true;
  },
  route(dir) {
    const [network, mask, gateway] = this.args(dir, 1, 4);
    const cidr = ipv4Route(this, dir, network!, mask === undefined || mask === 'default' ? '255.255.255.255' : mask);
    if (gateway === 'net_gateway') this.d.excludedRoutes.push(cidr);
    else {
      if (gateway !== undefined && gateway !== 'vpn_gateway' && gateway !== 'default' && parseIpv4(gateway) === null) {
        throw new ProfileError(`route: "${gateway}" is not a gateway (vpn_gateway, net_gateway or an address)`, dir.line, dir.name);
      }
      if (gateway === 'remote_host') throw new ProfileError('route … remote_host is not supported', dir.line, dir.name);
      this.d.routes.push(cidr);
    }
  },
  'route-ipv6'(dir) {
    const [network] = this.args(dir, 1, 3);
    const parsed = parseIpv6Cidr(network!);
    if (!parsed) throw new ProfileError(`route-ipv6: "${network}" is not an IPv6 network (like 2000::/3)`, dir.line, dir.name);
    this.d.routesIpv6.push(`${parsed.address}/${parsed.prefix}`);
  },
  'redirect-gateway'(dir) {
    const flags = this.args(dir, 0, 8);
    const known = ['def1', 'local', 'autolocal', 'bypass-dhcp', 'bypass-dns', 'block-local', 'ipv6', '!ipv4'];
    const unknown = flags.filter((f) => !known.includes(f));
    if (unknown.length) throw new ProfileError(`redirect-gateway: unknown flag ${unknown.join(', ')}`, dir.line, dir.name);
    this.d.redirectGateway = { ipv4: !flags.includes('!ipv4'), ipv6: flags.includes('ipv6'), flags };
  },
  'block-ipv6'(dir) {
    this.args(dir, 0, 0);
    this.d.blockIpv6 = true;
  },
  'block-outside-dns'(dir) {
    this.args(dir, 0, 0);
    this.d.blockOutsideDns = true;
  },
  'dhcp-option'(dir) {
    const [kind, value] = this.args(dir, 1, 3);
    const k = kind!.toUpperCase();
    const need = (): string => {
      if (value === undefined) throw new ProfileError(`dhcp-option ${kind} needs a value`, dir.line, dir.name);
      return value;
    };
    if (k === 'DNS' || k === 'DNS6') {
      const addr = need();
      if (parseIpv4(addr) === null && !isIpv6(addr)) throw new ProfileError(`dhcp-option ${kind}: "${addr}" is not an IP address`, dir.line, dir.name);
      this.d.dns.servers.push(addr);
    } else if (k === 'DOMAIN' || k === 'DOMAIN-SEARCH' || k === 'ADAPTER_DOMAIN_SUFFIX') {
      const domain = need();
      if (!isHostname(domain)) throw new ProfileError(`dhcp-option ${kind}: "${domain}" is not a domain name`, dir.line, dir.name);
      this.d.dns.searchDomains.push(domain);
    } else if (k === 'DOMAIN-ROUTE') {
      const domain = need();
      if (domain !== '.' && !isHostname(domain)) throw new ProfileError(`dhcp-option ${kind}: "${domain}" is not a domain name`, dir.line, dir.name);
      this.d.dns.routeDomains.push(domain);
    } else if (['WINS', 'NTP', 'NBDD', 'NBT', 'NBS', 'DISABLE-NBT', 'PROXY_HTTP', 'PROXY_HTTPS', 'PROXY_AUTO_CONFIG_URL', 'PROXY_BYPASS'].includes(k)) {
      this.warn(dir, `dhcp-option ${kind} is a Windows network setting that Causeway does not apply`);
    } else {
      this.warn(dir, `dhcp-option ${kind} is not understood; it was left out`);
    }
  },
  dns(dir) {
    const args = this.args(dir, 2, 16);
    if (args[0] === 'search-domains') {
      for (const d of args.slice(1)) {
        if (!isHostname(d)) throw new ProfileError(`dns search-domains: "${d}" is not a domain name`, dir.line, dir.name);
        this.d.dns.searchDomains.push(d);
      }
    } else if (args[0] === 'server' && args.length >= 4) {
      const what = args[2];
      if (what === 'address') {
        for (const a of args.slice(3)) {
          const host = a.replace(/^\[(.*)\](:\d+)?$/, '$1').replace(/^([\d.]+):\d+$/, '$1');
          if (parseIpv4(host) === null && !isIpv6(host)) throw new ProfileError(`dns server address: "${a}" is not an IP address`, dir.line, dir.name);
          this.d.dns.servers.push(host);
        }
      } else if (what === 'resolve-domains') {
        this.d.dns.routeDomains.push(...args.slice(3));
      } else this.warn(dir, `dns server … ${what} is not supported; it was left out`);
    } else this.warn(dir, `dns ${args[0]} is not understood; it was left out`);
  },
  'ifconfig-ipv6'(dir) {
    const [local, remote] = this.args(dir, 2, 2);
    const parsed = parseIpv6Cidr(local!);
    if (!parsed || !isIpv6(remote!)) throw new ProfileError('ifconfig-ipv6 needs an IPv6 address/bits and a remote IPv6 address', dir.line, dir.name);
    this.d.ifconfigIpv6 = { address: parsed.address, prefix: parsed.prefix, remote: remote!.toLowerCase() };
  },
};
