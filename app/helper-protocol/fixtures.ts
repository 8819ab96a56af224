// Well-formed protocol messages for unit tests of the codec, the validator and the helper client.
import type { EngineConfig, HelperMessage, PushedSettings } from './messages.js';

export function sampleEngineConfig(overrides: Partial<EngineConfig> = {}): EngineConfig {
  return {
    remotes: [{ host: 'vpn.example.test', port: 1194, proto: 'udp' }],
    remoteRandom: false,
    remoteRandomHostname: false,
    connectRetry: { initialSec: 1, maxSec: 300 },
    connectRetryMax: null,
    handshakeWindowSec: 60,
    ca: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
    extraCerts: null,
    cert: null,
    key: null,
    tlsAuth: null,
    tlsCrypt: null,
    tlsCryptV2: null,
    authDigest: 'SHA1',
    tlsVersionMin: '1.2',
    tlsVersionMax: null,
    dataCiphers: ['AES-256-GCM', 'CHACHA20-POLY1305'],
    remoteCertTls: 'server',
    verifyX509Name: null,
    authUserPass: false,
    staticChallenge: null,
    credentials: null,
    awsFraming: false,
    compression: 'none',
    keepalive: { intervalSec: 10, timeoutSec: 60 },
    renegSec: 3600,
    renegBytes: null,
    tunMtu: 1500,
    routeNoPull: false,
    routes: [],
    routesIpv6: [],
    redirectGateway: false,
    excludedRoutes: [],
    dns: { servers: [], searchDomains: [], routeDomains: [] },
    blockIpv6: false,
    killSwitch: false,
    guiVersion: 'causeway 0.1.0',
    ...overrides,
  };
}

export function samplePushed(overrides: Partial<PushedSettings> = {}): PushedSettings {
  return {
    ipv4: { address: '10.8.0.2', prefix: 24, gateway: '10.8.0.1' },
    ipv6: null,
    routes: ['10.20.0.0/16'],
    routesIpv6: [],
    redirectGateway: false,
    dns: { servers: ['10.8.0.1'], searchDomains: ['corp.example'], routeDomains: [] },
    mtu: 1500,
    device: 'cw0',
    peerId: 1,
    cipher: 'AES-256-GCM',
    sessionTimeoutSec: null,
    ...overrides,
  };
}

export function stateMessage(
  session: string,
  phase: Extract<HelperMessage, { type: 'state' }>['phase'],
  error: { code: Extract<HelperMessage, { type: 'error' }>['code']; message: string } | null = null,
): HelperMessage {
  return { type: 'state', session, phase, remote: null, error };
}
