// The interop matrix: our engine (through causeway-helper) against stock openvpn 2.6 over
// UDP and TCP, with every control-channel wrapping, every AEAD data cipher and both TLS
// versions. Each cell brings a session up and proves traffic flows both ways.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataCipher } from '../../app/helper-protocol/messages.js';
import { Lab, type HelperClient, type LabServer, type TlsWrap } from '../peers/lab/index.js';
import {
  connectSession,
  disconnectSession,
  negotiatedCipher,
  proveTraffic,
  serverHandshakes,
  serverTlsVersionAfter,
} from './engine-support.js';

const PROTOS = ['udp', 'tcp'] as const;
const WRAPS: TlsWrap[] = ['none', 'tls-auth', 'tls-crypt', 'tls-crypt-v2'];
const CIPHERS: DataCipher[] = ['AES-256-GCM', 'AES-128-GCM', 'CHACHA20-POLY1305'];
const TLS_VERSIONS = ['1.2', '1.3'] as const;

describe('engine interop matrix against stock openvpn 2.6', () => {
  let lab: Lab;
  let helper: HelperClient;
  const servers = new Map<string, LabServer>();

  beforeAll(async () => {
    lab = await Lab.create();
    // One server per transport x wrapping, all running side by side; the client picks the
    // cipher and TLS version, so the servers accept every combination.
    for (const proto of PROTOS) {
      for (const tlsWrap of WRAPS) servers.set(`${proto}/${tlsWrap}`, await lab.startServer({ proto, tlsWrap }));
    }
    helper = await lab.startHelper();
  });

  afterAll(async () => {
    await lab?.close();
  });

  for (const proto of PROTOS) {
    for (const wrap of WRAPS) {
      for (const cipher of CIPHERS) {
        for (const tls of TLS_VERSIONS) {
          it(`${proto} ${wrap} ${cipher} TLS ${tls}`, async () => {
            const server = servers.get(`${proto}/${wrap}`)!;
            const config = lab.engineConfig(server, { dataCiphers: [cipher], tlsVersionMin: tls, tlsVersionMax: tls });
            const handshakes = serverHandshakes(server);
            const session = await connectSession(helper, `${proto}-${wrap}`, config);
            expect(negotiatedCipher(helper, session)).toBe(cipher);
            expect(await serverTlsVersionAfter(server, handshakes)).toBe(`TLSv${tls}`);
            await proveTraffic(lab, server);
            await disconnectSession(lab, helper, session);
          });
        }
      }
    }
  }

  it('spoke the protocol correctly throughout', () => {
    expect(helper.violations).toEqual([]);
  });
});
