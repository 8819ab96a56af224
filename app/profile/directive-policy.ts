// The import policy: what Causeway does with each directive of an untrusted .ovpn file.
//
//  keep   understood and applied to the Profile (handlers in normalize.ts), or understood and
//         harmless with nothing to apply (NO_EFFECT below);
//  strip  left out, with a warning saying why: anything that would run a program, load code,
//         read or write local files, or take over the process Causeway runs itself;
//  refuse the whole profile is refused: it would weaken security, is not a client profile,
//         or asks for something that cannot work.
// Anything not listed anywhere is unknown: left out and listed as a warning.
// Based on OpenVPN's own option classes, Tunnelblick's, OpenVPN 3's and NetworkManager's lists
// (reference: openvpn-peers-limits-policy.md §4).

export type Outcome = 'keep' | 'strip' | 'refuse';

const RUNS = 'it runs a program or script; Causeway never runs commands from a profile';
const LOADS = 'it loads a code library named by the profile; Causeway never loads code from a profile';
const WRITES = 'it writes a file on your computer; Causeway never lets a profile write files';
const PROCESS = 'it controls the OpenVPN process itself; Causeway runs its own engine and sets this itself';
const MANAGEMENT = 'it opens a management interface; only Causeway itself controls the connection';
const LOGS = 'it writes logs elsewhere; Causeway keeps its own logs';
const WINDOWS = 'it is a Windows-only OpenVPN setting; Causeway configures the network itself';
const SERVER = 'is a server option: this file is a server configuration, not a client profile';
const STANDALONE = 'is a standalone OpenVPN command, not part of a client profile';

/** Directives left out with a warning, and why (a clause that follows "<name> was removed: "). */
export const STRIPPED: ReadonlyMap<string, string> = new Map([
  ...[
    'up',
    'down',
    'down-pre',
    'up-restart',
    'up-delay',
    'route-up',
    'route-pre-down',
    'ipchange',
    'tls-verify',
    'learn-address',
    'client-connect',
    'client-disconnect',
    'client-crresponse',
    'auth-user-pass-verify',
    'dns-updown',
    'iproute',
    'x509-track',
    'setenv-safe',
  ].map((d) => [d, RUNS] as const),
  ['script-security', 'it allows scripts to run; Causeway never runs scripts from a profile'],
  ['route-noexec', 'it hands route setup to scripts; Causeway sets up routes itself'],
  ['ifconfig-noexec', 'it hands interface setup to scripts; Causeway sets up the interface itself'],
  ...['plugin', 'engine', 'providers', 'pkcs11-providers'].map((d) => [d, LOADS] as const),
  ...['pkcs11-id', 'pkcs11-id-management', 'pkcs11-pin-cache', 'pkcs11-protected-authentication', 'pkcs11-cert-private', 'pkcs11-private-mode'].map(
    (d) => [d, 'it uses a PKCS#11 token; smart cards are not supported by profile import'] as const,
  ),
  ['cryptoapicert', 'it selects a certificate from the Windows certificate store, which Causeway does not use'],
  ...['status', 'writepid', 'replay-persist', 'tls-export-cert', 'tmp-dir'].map((d) => [d, WRITES] as const),
  ...['config', 'cd', 'chroot', 'daemon', 'user', 'group', 'mlock', 'nice', 'dev-node', 'lladdr', 'mark', 'bind-dev', 'machine-readable-output', 'errors-to-stderr', 'service'].map(
    (d) => [d, PROCESS] as const,
  ),
  ...[
    'management',
    'management-client',
    'management-client-auth',
    'management-client-user',
    'management-client-group',
    'management-external-cert',
    'management-external-key',
    'management-forget-disconnect',
    'management-hold',
    'management-log-cache',
    'management-query-passwords',
    'management-query-proxy',
    'management-query-remote',
    'management-signal',
    'management-up-down',
  ].map((d) => [d, MANAGEMENT] as const),
  ...['log', 'log-append', 'syslog', 'status-version', 'echo'].map((d) => [d, LOGS] as const),
  ...['win-sys', 'msg-channel', 'windows-driver', 'ip-win32', 'route-method', 'dhcp-renew', 'dhcp-release', 'register-dns', 'allow-nonadmin', 'show-net-up'].map(
    (d) => [d, WINDOWS] as const,
  ),
  ['ignore-unknown-option', 'it would hide options this client does not understand; Causeway lists them instead'],
  ['pull-filter', 'it filters pushed options; Causeway applies its own policy to what the server pushes'],
  ...['key-method', 'no-iv', 'compat-names', 'keysize', 'opt-verify', 'max-routes', 'comp-noadapt'].map(
    (d) => [d, 'it no longer exists in OpenVPN 2.6 and has no effect'] as const,
  ),
  ['ncp-disable', 'it was removed in OpenVPN 2.6; Causeway always negotiates the data cipher'],
  ['http-proxy-retry', 'it has no effect in Causeway, which retries the connection (through the proxy) as connect-retry says'],
  ['socks-proxy-retry', 'it has no effect in Causeway, which retries the connection (through the proxy) as connect-retry says'],
  ['local', 'binding to a local address is not supported; the system chooses it'],
  ['lport', 'binding to a local port is not supported; the system chooses it'],
  ['bind', 'binding to a local port is not supported; the system chooses it'],
  ['ifconfig', 'a static tunnel address is not supported; the server assigns it'],
  ['route-gateway', 'a fixed route gateway is not supported; the server pushes it'],
  ['auth-token-user', 'a preset auth-token user is not supported; the server sets it'],
  ['redirect-private', 'it is not supported; list the networks with route instead'],
  ['dhcp-pre-release', WINDOWS],
]);

/** Directives that make Causeway refuse the whole profile, and why (follows "<name> "). */
export const REFUSED: ReadonlyMap<string, string> = new Map([
  [
    'tls-remote',
    'was removed in OpenVPN 2.4 and would leave the server name unchecked; replace it with verify-x509-name <name> name (the server certificate\'s common name) or verify-x509-name "<subject>" subject',
  ],
  ['secret', 'uses static-key mode (no TLS, no forward secrecy), which is insecure and not supported'],
  ['no-replay', 'turns off replay protection, which would let an attacker replay packets'],
  ['tls-server', SERVER],
  ['server', SERVER],
  ['server-bridge', SERVER],
  ['server-ipv6', SERVER],
  ['push', SERVER],
  ['push-reset', SERVER],
  ['client-config-dir', SERVER],
  ['ccd-exclusive', SERVER],
  ['client-to-client', SERVER],
  ['duplicate-cn', SERVER],
  ['ifconfig-pool', SERVER],
  ['ifconfig-pool-persist', SERVER],
  ['ifconfig-ipv6-pool', SERVER],
  ['dh', SERVER],
  ['max-clients', SERVER],
  ['verify-client-cert', SERVER],
  ['auth-gen-token', SERVER],
  ['genkey', STANDALONE],
  ['mktun', STANDALONE],
  ['rmtun', STANDALONE],
  ['test-crypto', STANDALONE],
  ['show-ciphers', STANDALONE],
  ['show-digests', STANDALONE],
  ['show-tls', STANDALONE],
  ['show-engines', STANDALONE],
  ['show-groups', STANDALONE],
  ['show-curves', STANDALONE],
  ['show-gateway', STANDALONE],
  ['show-adapters', STANDALONE],
  ['show-valid-subnets', STANDALONE],
  ['fragment', 'uses OpenVPN fragmentation, which Causeway does not support: the tunnel could not carry traffic'],
]);

/** Understood directives that need no setting in Causeway (the engine's behaviour already matches). */
export const NO_EFFECT: ReadonlySet<string> = new Set([
  'client',
  'tls-client',
  'pull',
  'topology',
  'nobind',
  'float',
  'resolv-retry',
  'persist-key',
  'persist-tun',
  'persist-remote-ip',
  'persist-local-ip',
  'verb',
  'mute',
  'mute-replay-warnings',
  'tun-ipv6',
  'fast-io',
  'sndbuf',
  'rcvbuf',
  'txqueuelen',
  'route-delay',
  'route-metric',
  'mtu-disc',
  'tun-mtu-extra',
  'link-mtu',
  'allow-pull-fqdn',
  'replay-window',
  'tran-window',
  'reneg-pkts',
  'ping-timer-rem',
  'ping-exit',
  'allow-compression',
  'tls-groups',
  'ecdh-curve',
  'single-session',
  'tls-timeout',
  'tls-exit',
  'ifconfig-nowarn',
  'remap-usr1',
  'allow-recursive-routing',
  'disable-dco',
]);
