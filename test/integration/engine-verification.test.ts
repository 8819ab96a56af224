// OpenVPN 2.6's stricter server checks against stock openvpn 2.6 servers: each is enforced by
// the engine's certificate verifier, so a server that fails one is refused (never accepted with
// a warning), and a server that passes connects and carries traffic.
import { describe, expect, it } from 'vitest';
import { X509Certificate, createHash } from 'node:crypto';
import type { EngineConfig } from '../../app/helper-protocol/messages.js';
import type { LabServer, StateMessage } from '../peers/lab/index.js';
import { useLab } from '../peers/lab/suite.js';
import { connectSession, disconnectSession, newSessionId, proveTraffic } from './engine-support.js';

describe('server verification directives against stock openvpn 2.6', () => {
  const t = useLab({
    servers: () => ({
      normal: { proto: 'udp', tlsWrap: 'tls-crypt' },
      revoked: { proto: 'udp', serverCert: 'revoked' },
      selfSigned: { proto: 'tcp', serverCert: 'self-signed' },
    }),
  });

  async function expectRefused(config: EngineConfig, message: RegExp): Promise<void> {
    const session = newSessionId('verify');
    t.helper.connect(session, config);
    const end = (await t.helper.waitFor(
      (m) => m.type === 'state' && m.session === session && ['failed', 'connected', 'disconnected'].includes(m.phase),
      30_000,
    )) as StateMessage;
    expect({ phase: end.phase, code: end.error?.code }).toEqual({ phase: 'failed', code: 'server-cert-rejected' });
    expect(end.error!.message).toMatch(message);
    expect(await t.lab.clientDevices()).toEqual([]);
  }

  async function expectConnects(server: LabServer, config: EngineConfig): Promise<void> {
    const session = await connectSession(t.helper, 'verify-ok', config);
    await proveTraffic(t.lab, server, 256 * 1024);
    await disconnectSession(t.lab, t.helper, session);
  }

  it('connects to a self-signed server with no CA, pinned by peer-fingerprint (SHA-256)', async () => {
    const pin = t.lab.pki.selfSignedServer.sha256;
    await expectConnects(t.servers.selfSigned, t.lab.engineConfig(t.servers.selfSigned, {}, { ca: '', peerFingerprints: [pin], remoteCertTls: 'server' }));
  });

  it('refuses the self-signed server when the fingerprint differs, and a CA-signed server whose pin does not match', async () => {
    const wrong = new X509Certificate(t.lab.pki.server.cert).fingerprint256;
    await expectRefused(t.lab.engineConfig(t.servers.selfSigned, {}, { ca: '', peerFingerprints: [wrong] }), /not one of the profile's peer-fingerprint values/);
    await expectRefused(t.lab.engineConfig(t.servers.normal, {}, { peerFingerprints: [t.lab.pki.selfSignedServer.sha256] }), /peer-fingerprint/);
  });

  it('crl-verify: refuses the revoked server certificate; the valid one connects with the same CRL', async () => {
    await expectRefused(t.lab.engineConfig(t.servers.revoked, {}, { crl: t.lab.pki.crl }), /has been revoked \(crl-verify\)/);
    await expectConnects(t.servers.normal, t.lab.engineConfig(t.servers.normal, {}, { crl: t.lab.pki.crl }));
  });

  it('verify-hash pins the CA that issued the server certificate', async () => {
    const der = new X509Certificate(t.lab.pki.ca).raw;
    const sha256 = createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g)!.join(':');
    await expectConnects(t.servers.normal, t.lab.engineConfig(t.servers.normal, {}, { verifyHash: { algorithm: 'SHA256', fingerprints: [sha256] } }));
    const other = createHash('sha1').update(new X509Certificate(t.lab.pki.otherCa).raw).digest('hex').toUpperCase().match(/../g)!.join(':');
    await expectRefused(t.lab.engineConfig(t.servers.normal, {}, { verifyHash: { algorithm: 'SHA1', fingerprints: [other] } }), /verify-hash/);
  });

  it('remote-cert-ku and remote-cert-eku: the lab server (digitalSignature+keyEncipherment, serverAuth) passes a0 and serverAuth, fails 88 and clientAuth', async () => {
    await expectConnects(t.servers.normal, t.lab.engineConfig(t.servers.normal, {}, { remoteCertKu: [0xa0], remoteCertEku: '1.3.6.1.5.5.7.3.1' }));
    await expectRefused(t.lab.engineConfig(t.servers.normal, {}, { remoteCertKu: [0x88] }), /remote-cert-ku/);
    await expectRefused(t.lab.engineConfig(t.servers.normal, {}, { remoteCertEku: '1.3.6.1.5.5.7.3.2' }), /remote-cert-eku/);
  });
});
