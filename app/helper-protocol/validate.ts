// Strict validation of helper-protocol messages (protocol v1, messages.ts). Every message that
// crosses the boundary goes through here: the set of types is closed, every field is checked,
// and unknown fields are rejected, exactly like the helper's serde `deny_unknown_fields`.
// Errors name the offending path but never include values, which may be secrets.
import type {
  ClientMessage,
  DataCipher,
  EngineConfig,
  ErrorCode,
  HelperMessage,
  PushedSettings,
  SessionPhase,
} from './messages.js';

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

type Check = (value: unknown, path: string) => void;

function fail(path: string, expected: string): never {
  throw new ProtocolError(`${path}: expected ${expected}`);
}

const str: Check = (v, p) => {
  if (typeof v !== 'string') fail(p, 'a string');
};
const nonEmptyStr: Check = (v, p) => {
  if (typeof v !== 'string' || v.length === 0) fail(p, 'a non-empty string');
};
const bool: Check = (v, p) => {
  if (typeof v !== 'boolean') fail(p, 'a boolean');
};
/** A non-negative safe integer (JSON has no u64; byte counters stay well below 2^53). */
const uint: Check = (v, p) => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(p, 'a non-negative integer');
};
const intRange =
  (min: number, max: number): Check =>
  (v, p) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(p, `an integer in ${min}..${max}`);
  };
const oneOf =
  <T extends string | number>(...values: readonly T[]): Check =>
  (v, p) => {
    if (!values.includes(v as T)) fail(p, `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`);
  };
const nullable =
  (check: Check): Check =>
  (v, p) => {
    if (v !== null) check(v, p);
  };
const arrayOf =
  (check: Check, minLength = 0): Check =>
  (v, p) => {
    if (!Array.isArray(v)) fail(p, 'an array');
    if (v.length < minLength) fail(p, `at least ${minLength} element(s)`);
    v.forEach((item, i) => check(item, `${p}[${i}]`));
  };
/** An object with exactly these fields: none missing, none extra. */
const object =
  (fields: Record<string, Check>): Check =>
  (v, p) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(p, 'an object');
    const record = v as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!Object.hasOwn(fields, key)) throw new ProtocolError(`${p}: unknown field ${JSON.stringify(key)}`);
    }
    for (const [key, check] of Object.entries(fields)) {
      if (!Object.hasOwn(record, key)) throw new ProtocolError(`${p}: missing field ${JSON.stringify(key)}`);
      check(record[key], `${p}.${key}`);
    }
  };

const PHASES: readonly SessionPhase[] = [
  'resolving',
  'connecting',
  'authenticating',
  'connected',
  'reconnecting',
  'disconnecting',
  'disconnected',
  'failed',
];
const ERROR_CODES: readonly ErrorCode[] = [
  'auth-failed',
  'server-unreachable',
  'tls-version-refused',
  'server-cert-rejected',
  'client-cert-rejected',
  'tls-failed',
  'protocol-error',
  'halted',
  'session-expired',
  'tun-failed',
  'network-setup-failed',
  'config-invalid',
  'unknown-session',
  'bad-message',
  'permission-denied',
  'internal',
];
const CIPHERS: readonly DataCipher[] = ['AES-256-GCM', 'AES-128-GCM', 'CHACHA20-POLY1305'];

const proto = oneOf('udp', 'tcp');
const port = intRange(1, 65535);
const session = nonEmptyStr;
const errorInfo = object({ code: oneOf(...ERROR_CODES), message: str });

const dnsOptions = object({ servers: arrayOf(str), searchDomains: arrayOf(str), routeDomains: arrayOf(str) });

const engineConfig: Check = object({
  remotes: arrayOf(object({ host: nonEmptyStr, port, proto }), 1),
  remoteRandom: bool,
  remoteRandomHostname: bool,
  connectRetry: object({ initialSec: uint, maxSec: uint }),
  connectRetryMax: nullable(uint),
  handshakeWindowSec: uint,
  ca: nonEmptyStr,
  extraCerts: nullable(str),
  cert: nullable(str),
  key: nullable(str),
  tlsAuth: nullable(object({ key: nonEmptyStr, direction: nullable(oneOf(0, 1)) })),
  tlsCrypt: nullable(str),
  tlsCryptV2: nullable(str),
  authDigest: oneOf('SHA1', 'SHA256', 'SHA512'),
  tlsVersionMin: oneOf('1.2', '1.3'),
  tlsVersionMax: nullable(oneOf('1.2', '1.3')),
  dataCiphers: arrayOf(oneOf(...CIPHERS), 1),
  remoteCertTls: nullable(oneOf('server')),
  verifyX509Name: nullable(object({ name: nonEmptyStr, type: oneOf('subject', 'name', 'name-prefix') })),
  authUserPass: bool,
  staticChallenge: nullable(object({ text: str, echo: bool })),
  credentials: nullable(object({ username: str, password: str })),
  awsFraming: bool,
  compression: oneOf('none', 'comp-lzo-no', 'compress-stub', 'compress-stub-v2'),
  keepalive: nullable(object({ intervalSec: uint, timeoutSec: uint })),
  renegSec: uint,
  renegBytes: nullable(uint),
  tunMtu: intRange(576, 65535),
  routeNoPull: bool,
  routes: arrayOf(str),
  routesIpv6: arrayOf(str),
  redirectGateway: bool,
  excludedRoutes: arrayOf(str),
  dns: dnsOptions,
  blockIpv6: bool,
  killSwitch: bool,
  guiVersion: str,
});

const pushedSettings: Check = object({
  ipv4: nullable(object({ address: nonEmptyStr, prefix: intRange(0, 32), gateway: nullable(str) })),
  ipv6: nullable(object({ address: nonEmptyStr, prefix: intRange(0, 128) })),
  routes: arrayOf(str),
  routesIpv6: arrayOf(str),
  redirectGateway: bool,
  dns: dnsOptions,
  mtu: uint,
  device: str,
  peerId: nullable(uint),
  cipher: oneOf(...CIPHERS),
  sessionTimeoutSec: nullable(uint),
});

const CLIENT_MESSAGES: Record<ClientMessage['type'], Check> = {
  hello: object({ type: str, version: uint, client: str }),
  connect: object({ type: str, session, config: engineConfig }),
  credentials: object({ type: str, session, username: nullable(str), password: nullable(str), response: nullable(str) }),
  crResponse: object({ type: str, session, response: str }),
  disconnect: object({ type: str, session }),
  status: object({ type: str }),
};

const HELPER_MESSAGES: Record<HelperMessage['type'], Check> = {
  hello: object({ type: str, version: uint, helper: str }),
  state: object({
    type: str,
    session,
    phase: oneOf(...PHASES),
    remote: nullable(object({ host: str, address: str, port, proto })),
    error: nullable(errorInfo),
  }),
  needCredentials: object({
    type: str,
    session,
    kind: oneOf('password', 'static-challenge', 'crv1'),
    challenge: nullable(str),
    echo: bool,
    username: nullable(str),
  }),
  authPending: object({
    type: str,
    session,
    method: oneOf('webauth', 'openurl', 'crtext'),
    payload: str,
    echo: bool,
    timeoutSec: uint,
  }),
  pushed: object({ type: str, session, settings: pushedSettings }),
  echo: object({ type: str, session, text: str }),
  stats: object({ type: str, session, rxBytes: uint, txBytes: uint }),
  log: object({ type: str, session: nullable(session), level: oneOf('error', 'warn', 'info', 'debug'), text: str }),
  error: object({ type: str, session: nullable(session), code: oneOf(...ERROR_CODES), message: str }),
  statusReply: object({
    type: str,
    sessions: arrayOf(
      object({
        session,
        phase: oneOf(...PHASES),
        uid: nullable(uint),
        device: nullable(str),
        rxBytes: uint,
        txBytes: uint,
        connectedSince: nullable(str),
      }),
    ),
  }),
};

function parseWith<T>(table: Record<string, Check>, value: unknown, side: string): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError(`${side} message: expected an object`);
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || !Object.hasOwn(table, type)) {
    throw new ProtocolError(`${side} message: unknown type ${typeof type === 'string' ? JSON.stringify(type) : '(missing)'}`);
  }
  table[type]!(value, type);
  return value as T;
}

/** Validates a message main sends to the helper (used before sending, and by tests). */
export function parseClientMessage(value: unknown): ClientMessage {
  return parseWith<ClientMessage>(CLIENT_MESSAGES, value, 'client');
}

/** Validates a message received from the helper; anything else is a protocol error. */
export function parseHelperMessage(value: unknown): HelperMessage {
  return parseWith<HelperMessage>(HELPER_MESSAGES, value, 'helper');
}

export type { EngineConfig, PushedSettings };
