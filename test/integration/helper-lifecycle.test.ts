// causeway-helper as a process: how it ends (stdin EOF, SIGTERM, SIGKILL) and what it leaves
// behind (nothing), how it treats bad input, and that secrets never reach its output.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame } from '../../app/helper-protocol/codec.js';
import { Lab, type LabServer } from '../peers/lab/index.js';
import { connectSession, proveTraffic } from './engine-support.js';

describe('causeway-helper lifecycle and cleanup', () => {
  let lab: Lab;
  let server: LabServer;
  let baselineRoutes: string[];

  beforeAll(async () => {
    lab = await Lab.create();
    // redirect-gateway makes the helper add a host route on the physical interface: the one
    // change that outlives the TUN device if the helper dies.
    server = await lab.startServer({
      proto: 'udp',
      tlsWrap: 'tls-crypt',
      clientAuth: 'both',
      ipv6: true,
      push: ['route 10.123.0.0 255.255.0.0', 'redirect-gateway def1'],
    });
    baselineRoutes = await lab.clientRoutes();
  });

  afterAll(async () => {
    await lab?.close();
  });

  /** Routes now that were not there before the helper ran (link-local noise aside). */
  async function leftoverRoutes(): Promise<string[]> {
    return (await lab.clientRoutes()).filter((r) => !baselineRoutes.includes(r) && !r.startsWith('fe80::'));
  }

  it('disconnects everything, cleans up and exits 0 when stdin closes', async () => {
    const helper = await lab.startHelper();
    await connectSession(helper, 'eof', lab.engineConfig(server));
    expect(await leftoverRoutes()).not.toEqual([]);
    expect(await helper.close()).toBe(0);
    expect(helper.messages.at(-1)).toMatchObject({ type: 'state', phase: 'disconnected' });
    expect(await lab.clientDevices()).toEqual([]);
    expect(await leftoverRoutes()).toEqual([]);
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`disconnects everything, cleans up and exits 0 on ${signal}`, async () => {
      const helper = await lab.startHelper();
      const session = await connectSession(helper, signal, lab.engineConfig(server));
      await proveTraffic(lab, server, 256 * 1024);
      helper.kill(signal);
      expect(await helper.waitForExit()).toBe(0);
      expect(helper.messages).toContainEqual(expect.objectContaining({ type: 'state', session, phase: 'disconnected' }));
      expect(await lab.clientDevices()).toEqual([]);
      expect(await leftoverRoutes()).toEqual([]);
    });
  }

  it('a new helper undoes what a SIGKILLed one left behind', async () => {
    const crashed = await lab.startHelper();
    await connectSession(crashed, 'crash', lab.engineConfig(server));
    crashed.kill('SIGKILL');
    await crashed.waitForExit();
    // The kernel removed the TUN device and its routes; the host route to the server stays.
    expect(await lab.clientDevices()).toEqual([]);
    expect(await leftoverRoutes()).toEqual([expect.stringMatching(new RegExp(`^${lab.netns.serverAddress.replace(/\./g, '\\.')} `))]);

    // So do its routing rules (they do not go with a device).
    const tunnelRules = async (): Promise<string[]> =>
      (await lab.inClient('ip', ['rule'])).stdout.split('\n').filter((l) => l.includes('lookup 1668768121') || l.startsWith('32000:'));
    expect((await tunnelRules()).length).toBeGreaterThan(0);

    const next = await lab.startHelper();
    await next.waitForStderr(/cleaned up after a previous helper: 1 session\(s\), 1 route\(s\), [1-9]\d* routing rule\(s\)/, 5_000);
    expect(await lab.clientDevices()).toEqual([]);
    expect(await leftoverRoutes()).toEqual([]);
    expect(await tunnelRules()).toEqual([]);
    // And it works normally afterwards.
    const session = await connectSession(next, 'after-crash', lab.engineConfig(server));
    await proveTraffic(lab, server, 256 * 1024);
    next.disconnect(session);
    await next.waitForPhase(session, 'disconnected', 10_000);
    expect(await next.close()).toBe(0);
    expect(await leftoverRoutes()).toEqual([]);
  });

  it('answers bad frames with bad-message and keeps serving', async () => {
    const helper = await lab.startHelper();
    const before = helper.messages.length;
    helper.sendRaw(Buffer.concat([Buffer.from([0, 0, 0, 9]), Buffer.from('not json!')]));
    helper.sendRaw(encodeFrame({ type: 'connect', session: 'x', config: { remotes: [] } }));
    helper.sendRaw(encodeFrame({ type: 'disconnect', session: 'never-started' }));
    helper.send({ type: 'status' });
    await helper.waitFor((m) => m.type === 'statusReply', 5_000, before);
    const replies = helper.messages.slice(before);
    expect(replies.map((m) => (m.type === 'error' ? m.code : m.type))).toEqual(['bad-message', 'bad-message', 'unknown-session', 'statusReply']);
    expect(helper.violations).toEqual([]);
    expect(await helper.close()).toBe(0);
  });

  it('closes the channel on an oversized frame', async () => {
    const helper = await lab.startHelper();
    helper.sendRaw(Buffer.from([0x7f, 0xff, 0xff, 0xff]));
    await helper.waitFor((m) => m.type === 'error' && /exceeds/.test(m.message), 5_000);
    expect(await helper.waitForExit()).toBe(0);
  });

  it('never writes passwords or private keys to its output', async () => {
    const helper = await lab.startHelper({ CAUSEWAY_HELPER_DEBUG: '1' });
    const config = lab.engineConfig(server, { clientCert: 'ec' });
    const session = await connectSession(helper, 'secrets', config);
    // A 128 KiB "SAML" password sent to an unknown session, and a wrong one in a bad frame.
    const samlLike = randomBytes(96 * 1024).toString('base64');
    helper.send({ type: 'credentials', session: 'no-such-session', username: 'u', password: samlLike, response: null });
    const marker = `leak-${randomBytes(8).toString('hex')}`;
    helper.sendRaw(encodeFrame({ type: 'credentials', session: session, username: 'u', password: 42, response: marker }));
    helper.send({ type: 'status' });
    await helper.waitFor((m) => m.type === 'statusReply', 5_000);
    await helper.close();
    const output = `${helper.stderr}\n${JSON.stringify(helper.messages)}`;
    const keyBody = config.key!.split('\n').slice(1, -2).join('');
    for (const secret of [lab.credentials.password, samlLike.slice(0, 64), marker, keyBody.slice(0, 40), lab.pki.tlsCryptKey.split('\n')[3]!]) {
      expect(output).not.toContain(secret);
    }
  });
});
