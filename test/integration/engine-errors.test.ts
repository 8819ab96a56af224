// Failures a user can meet, each ending the session with a specific error code and a message
// that says what is wrong — never a hang, never a generic failure.
import { describe, expect, it } from 'vitest';
import type { EngineConfig, ErrorCode } from '../../app/helper-protocol/messages.js';
import type { StateMessage } from '../peers/lab/index.js';
import { useLab } from '../peers/lab/suite.js';
import { newSessionId } from './engine-support.js';

describe('engine errors against stock openvpn 2.6', () => {
  const t = useLab({
    servers: () => ({
      udp: { proto: 'udp', tlsWrap: 'tls-crypt' },
      tcp: { proto: 'tcp', clientAuth: 'both' },
    }),
  });

  /** Connects with `config` and returns the terminal state, which must be `failed`. */
  async function expectFailure(config: EngineConfig, timeoutMs = 30_000): Promise<NonNullable<StateMessage['error']>> {
    const session = newSessionId('fail');
    t.helper.connect(session, config);
    const end = (await t.helper.waitFor(
      (m) => m.type === 'state' && m.session === session && (m.phase === 'failed' || m.phase === 'connected' || m.phase === 'disconnected'),
      timeoutMs,
    )) as StateMessage;
    expect(end.phase).toBe('failed');
    expect(await t.lab.clientDevices()).toEqual([]);
    return end.error!;
  }

  function expectCode(error: { code: ErrorCode; message: string }, code: ErrorCode, message: RegExp): void {
    expect({ code: error.code, message: error.message }).toEqual({ code, message: expect.stringMatching(message) });
  }

  it('reports an unreachable server (TCP, connection refused) after the retry policy', async () => {
    const config = t.lab.engineConfig(t.servers.tcp, {}, {
      remotes: [{ host: t.lab.netns.serverAddress, port: 1, proto: 'tcp', family: 'any' }],
      connectRetry: { initialSec: 1, maxSec: 1 },
      connectRetryMax: 2,
    });
    expectCode(await expectFailure(config), 'server-unreachable', /./);
  });

  it('reports an unreachable server (UDP, nobody answers) after the handshake window', async () => {
    const config = t.lab.engineConfig(t.servers.udp, {}, {
      remotes: [{ host: '10.99.0.77', port: 1194, proto: 'udp', family: 'any' }],
      connectRetry: { initialSec: 1, maxSec: 1 },
      connectRetryMax: 1,
      handshakeWindowSec: 4,
    });
    expectCode(await expectFailure(config, 40_000), 'server-unreachable', /./);
  });

  it('rejects a server whose certificate does not chain to the profile CA', async () => {
    const config = t.lab.engineConfig(t.servers.udp, {}, { ca: t.lab.pki.otherCa });
    expectCode(await expectFailure(config), 'server-cert-rejected', /not signed by the profile's CA/);
  });

  it('rejects an expired server certificate', async () => {
    const expired = await t.lab.startServer({ proto: 'udp', expiredCert: true });
    try {
      expectCode(await expectFailure(t.lab.engineConfig(expired)), 'server-cert-rejected', /expired/i);
    } finally {
      await expired.stop();
    }
  });

  it('rejects a server whose name does not match verify-x509-name', async () => {
    const config = t.lab.engineConfig(t.servers.udp, {}, { verifyX509Name: { name: 'vpn.example.test', type: 'name' } });
    expectCode(await expectFailure(config), 'server-cert-rejected', /does not match verify-x509-name/);
  });

  for (const proto of ['udp', 'tcp'] as const) {
    it(`refuses a server that only speaks TLS 1.1 or lower (${proto})`, async () => {
      const old = await t.lab.startServer({ proto, tlsVersionMin: '1.0', tlsVersionMax: '1.1' });
      try {
        // A short handshake window: the server never sends its alert (it drops the client
        // instance first), so the engine concludes when the window runs out.
        const config = t.lab.engineConfig(old, {}, { handshakeWindowSec: 5 });
        expectCode(await expectFailure(config), 'tls-version-refused', /TLS 1\.1 or older/);
      } finally {
        await old.stop();
      }
    });

    it(`fails with tls-version-refused when the profile demands TLS 1.3 and the server stops at 1.2 (${proto})`, async () => {
      const tls12 = await t.lab.startServer({ proto, tlsVersionMax: '1.2' });
      try {
        const config = t.lab.engineConfig(tls12, { tlsVersionMin: '1.3' }, { handshakeWindowSec: 5 });
        expectCode(await expectFailure(config), 'tls-version-refused', /TLS/);
      } finally {
        await tls12.stop();
      }
    });
  }

  // The server drops a handshake that lacks the certificate it requires without an alert;
  // the engine must still say the handshake failed rather than that the server is unreachable.
  for (const proto of ['udp', 'tcp'] as const) {
    it(`says the server requires a client certificate the profile lacks (${proto})`, async () => {
      const strict = await t.lab.startServer({ proto, clientAuth: 'cert' });
      try {
        const config = t.lab.engineConfig(strict, {}, {
          cert: null,
          key: null,
          authUserPass: true,
          credentials: t.lab.credentials,
          handshakeWindowSec: 5,
          connectRetryMax: 1,
        });
        expectCode(await expectFailure(config), 'client-cert-rejected', /has none/);
      } finally {
        await strict.stop();
      }
    });
  }

  it('reports a wrong password as auth-failed', async () => {
    const config = t.lab.engineConfig(t.servers.tcp, {}, {});
    config.credentials = { username: t.lab.credentials.username, password: 'not-the-password' };
    expectCode(await expectFailure(config), 'auth-failed', /./);
  });

  it('reports a wrong static-challenge code as auth-failed', async () => {
    const config = t.lab.engineConfig(t.servers.tcp, {}, { credentials: null, staticChallenge: { text: 'Code?', echo: false } });
    const session = newSessionId('bad-otp');
    t.helper.connect(session, config);
    await t.helper.waitFor((m) => m.type === 'needCredentials' && m.session === session, 20_000);
    t.helper.send({ type: 'credentials', session, ...t.lab.credentials, response: 'not-the-code' });
    const end = (await t.helper.waitFor((m) => m.type === 'state' && m.session === session && ['failed', 'connected'].includes(m.phase), 30_000)) as StateMessage;
    expect(end).toMatchObject({ phase: 'failed', error: { code: 'auth-failed' } });
  });

  it('spoke the protocol correctly throughout', () => {
    expect(t.helper.violations).toEqual([]);
  });
});
