// Stock Debian openvpn 2.6 as the lab's server, built from a small set of options.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DataCipher } from '../../../app/helper-protocol/messages.js';
import type { Pki } from './pki.js';
import { LabProcess } from './process.js';

export type TlsWrap = 'none' | 'tls-auth' | 'tls-crypt' | 'tls-crypt-v2';
export type ClientAuth = 'cert' | 'password' | 'both';

export interface ServerOptions {
  proto: 'udp' | 'tcp';
  /** Default: the lab's next free port (1194, 1195, …). */
  port?: number;
  tlsWrap?: TlsWrap;
  /** Server's data-ciphers, in its preference order (default: all three AEADs). */
  dataCiphers?: DataCipher[];
  /** '1.0' and '1.1' exist to build servers our engine must refuse. */
  tlsVersionMin?: '1.0' | '1.1' | '1.2' | '1.3';
  tlsVersionMax?: '1.0' | '1.1' | '1.2' | '1.3';
  clientAuth?: ClientAuth;
  topology?: 'subnet' | 'net30';
  /** Also give clients an IPv6 address inside the tunnel. */
  ipv6?: boolean;
  /** A `compress` directive for the server (we must interoperate without compressing). */
  compress?: 'stub' | 'stub-v2' | 'lzo-no';
  renegSec?: number;
  /** Serve the certificate whose validity ended in 2021. */
  expiredCert?: boolean;
  /** Serve the lab CA's revoked certificate, or the self-signed one no CA issued. */
  serverCert?: 'revoked' | 'self-signed';
  keepalive?: { interval: number; timeout: number };
  /** Extra lines pushed to clients, e.g. `route 10.123.0.0 255.255.0.0`. */
  push?: string[];
  /** Listen on the server namespace's second address (remote-list failover tests). */
  secondaryAddress?: boolean;
  /** Raw extra config lines (for one-off cases). */
  extra?: string[];
}

/** What a client needs to know about a running (or stopped) server. */
export interface ServerInfo {
  name: string;
  options: Required<Pick<ServerOptions, 'proto' | 'tlsWrap' | 'clientAuth' | 'topology'>> & ServerOptions;
  address: string;
  port: number;
  /** The server's own address inside the tunnel (ping and transfer target). */
  tunnelAddress: string;
  tunnelAddress6: string | null;
  /** The subnet's first three octets, e.g. "10.8.3". */
  subnetPrefix: string;
}

export interface ServerSlot {
  name: string;
  port: number;
  /** Third octet of 10.8.N.0/24 and the N in fd00:8:N::/64. */
  subnet: number;
}

export function describeServer(address: string, slot: ServerSlot, options: ServerOptions): ServerInfo {
  const full = { tlsWrap: 'none' as const, clientAuth: 'cert' as const, topology: 'subnet' as const, ...options };
  const subnetPrefix = `10.8.${slot.subnet}`;
  return {
    name: slot.name,
    options: full,
    address,
    port: slot.port,
    // topology subnet: the server is .1; net30: the server's tun is .1 with peer .2.
    tunnelAddress: `${subnetPrefix}.1`,
    tunnelAddress6: full.ipv6 ? `fd00:8:${slot.subnet}::1` : null,
    subnetPrefix,
  };
}

/** The server's config file text. */
export function serverConfig(info: ServerInfo, pki: Pki, dir: string): string {
  const o = info.options;
  const cert = o.expiredCert
    ? pki.expiredServer
    : o.serverCert === 'revoked'
      ? pki.revokedServer
      : o.serverCert === 'self-signed'
        ? pki.selfSignedServer
        : pki.server;
  const lines = [
    `# causeway lab server ${info.name}`,
    'dev tun',
    `proto ${o.proto === 'udp' ? 'udp4' : 'tcp4-server'}`,
    `local ${info.address}`,
    `port ${info.port}`,
    `topology ${o.topology}`,
    `server ${info.subnetPrefix}.0 255.255.255.0`,
    `ca ${pki.caPath}`,
    `cert ${cert.certPath}`,
    `key ${cert.keyPath}`,
    'dh none',
    'duplicate-cn',
    `data-ciphers ${(o.dataCiphers ?? ['AES-256-GCM', 'AES-128-GCM', 'CHACHA20-POLY1305']).join(':')}`,
    `keepalive ${o.keepalive?.interval ?? 10} ${o.keepalive?.timeout ?? 60}`,
    `reneg-sec ${o.renegSec ?? 0}`,
    'verb 3',
    // Quick re-binding when a test restarts the server on the same port.
    ...(o.proto === 'udp' ? ['explicit-exit-notify 1'] : []),
  ];
  if (o.ipv6) lines.push(`server-ipv6 fd00:8:${info.subnetPrefix.split('.')[2]}::/64`);
  switch (o.tlsWrap) {
    case 'tls-auth':
      lines.push(`tls-auth ${pki.tlsAuthPath} 0`);
      break;
    case 'tls-crypt':
      lines.push(`tls-crypt ${pki.tlsCryptPath}`);
      break;
    case 'tls-crypt-v2':
      lines.push(`tls-crypt-v2 ${pki.tlsCryptV2ServerPath}`);
      break;
    case 'none':
      break;
  }
  if (o.tlsVersionMin) lines.push(`tls-version-min ${o.tlsVersionMin}`);
  if (o.tlsVersionMax) lines.push(`tls-version-max ${o.tlsVersionMax}`);
  if ((o.tlsVersionMax ?? '1.3') < '1.2') {
    // OpenSSL 3 refuses TLS < 1.2 at its default security level.
    lines.push('tls-cipher DEFAULT:@SECLEVEL=0');
  }
  if (o.clientAuth !== 'cert') {
    lines.push(
      'script-security 2',
      `auth-user-pass-verify ${join(dir, 'verify-password.sh')} via-file`,
      `tmp-dir ${dir}`,
    );
  }
  if (o.clientAuth === 'password') lines.push('verify-client-cert none', 'username-as-common-name');
  if (o.compress === 'stub') lines.push('compress stub');
  if (o.compress === 'stub-v2') lines.push('compress stub-v2');
  if (o.compress === 'lzo-no') lines.push('comp-lzo no');
  for (const p of o.push ?? []) lines.push(`push "${p}"`);
  lines.push(...(o.extra ?? []));
  return lines.join('\n') + '\n';
}

/**
 * Writes the password-check script the servers use; it compares with the lab's user file.
 * A static-challenge answer (`SCRV1:<base64 password>:<base64 response>`) must also carry
 * the expected one-time code.
 */
export function writePasswordScript(dir: string, username: string, password: string, otp: string): void {
  const users = join(dir, 'users');
  writeFileSync(users, `${username}\n${password}\n${otp}\n`, { mode: 0o600 });
  writeFileSync(
    join(dir, 'verify-password.sh'),
    [
      '#!/bin/sh',
      '# openvpn auth-user-pass-verify via-file: $1 holds the username and password lines.',
      `expected() { sed -n "$1p" ${users}; }`,
      'user=$(sed -n 1p "$1"); pass=$(sed -n 2p "$1")',
      'case "$pass" in',
      '  SCRV1:*)',
      '    [ "$(printf %s "$pass" | cut -d: -f3 | base64 -d)" = "$(expected 3)" ] || exit 1',
      '    pass=$(printf %s "$pass" | cut -d: -f2 | base64 -d) ;;',
      'esac',
      '[ "$user" = "$(expected 1)" ] && [ "$pass" = "$(expected 2)" ]',
      '',
    ].join('\n'),
    { mode: 0o700 },
  );
}

/** Starts `openvpn --config file` inside a network namespace (ip netns exec execs it, so the
 *  child's pid is openvpn's own). */
export function spawnOpenvpn(netns: string, configPath: string): LabProcess {
  const child = spawn('ip', ['netns', 'exec', netns, 'openvpn', '--config', configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new LabProcess(child, 'openvpn');
}

export function writeServerConfig(info: ServerInfo, pki: Pki, dir: string): string {
  const path = join(dir, `${info.name}.conf`);
  writeFileSync(path, serverConfig(info, pki, dir));
  return path;
}
