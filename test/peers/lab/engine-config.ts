// The EngineConfig a client needs for one of the lab's servers: what main would build from a
// profile written for that server.
import { sampleEngineConfig } from '../../vectors/samples.js';
import type { DataCipher, EngineConfig } from '../../../app/helper-protocol/messages.js';
import type { ServerInfo } from './openvpn-server.js';
import type { Pki } from './pki.js';

export interface ClientChoices {
  /** Which client certificate to present (ignored for password-only servers). */
  clientCert?: 'rsa' | 'ec';
  dataCiphers?: DataCipher[];
  tlsVersionMin?: '1.2' | '1.3';
  tlsVersionMax?: '1.2' | '1.3' | null;
}

export function engineConfigFor(
  server: ServerInfo,
  pki: Pki,
  credentials: { username: string; password: string },
  choices: ClientChoices = {},
  overrides: Partial<EngineConfig> = {},
): EngineConfig {
  const o = server.options;
  const usesCert = o.clientAuth !== 'password';
  const usesPassword = o.clientAuth !== 'cert';
  const client = choices.clientCert === 'ec' ? pki.clientEc : pki.clientRsa;
  const compression: EngineConfig['compression'] =
    o.compress === 'stub' ? 'compress-stub' : o.compress === 'stub-v2' ? 'compress-stub-v2' : o.compress === 'lzo-no' ? 'comp-lzo-no' : 'none';
  // Everything not named here is the protocol's typical sample (test/vectors/helper-protocol/valid/to-connect-typical.json).
  return sampleEngineConfig({
    remotes: [{ host: server.address, port: server.port, proto: o.proto, family: 'any' }],
    // Short retries and handshake window: a test waits for failures, a user would not.
    connectRetry: { initialSec: 1, maxSec: 4 },
    connectRetryMax: 3,
    handshakeWindowSec: 20,
    ca: pki.ca,
    cert: usesCert ? client.cert : null,
    key: usesCert ? client.key : null,
    tlsAuth: o.tlsWrap === 'tls-auth' ? { key: pki.tlsAuthKey, direction: 1 } : null,
    tlsCrypt: o.tlsWrap === 'tls-crypt' ? pki.tlsCryptKey : null,
    tlsCryptV2: o.tlsWrap === 'tls-crypt-v2' ? pki.tlsCryptV2Client : null,
    tlsVersionMin: choices.tlsVersionMin ?? '1.2',
    tlsVersionMax: choices.tlsVersionMax ?? null,
    dataCiphers: choices.dataCiphers ?? ['AES-256-GCM', 'AES-128-GCM', 'CHACHA20-POLY1305'],
    authUserPass: usesPassword,
    credentials: usesPassword ? credentials : null,
    compression,
    // The lab's servers set their own keepalive and push it.
    keepalive: null,
    guiVersion: 'causeway-lab 0.1.0',
    ...overrides,
  });
}
