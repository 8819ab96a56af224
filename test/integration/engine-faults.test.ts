// Faults a real network has, survived: loss with delay, the link going down and up, the
// client's address changing, the helper frozen past the server's keepalive (a laptop lid), a
// path that silently drops large packets.
// Stock openvpn 2.6 is the server, our helper and engine the client. Each test first shows the
// fault is really there, then that the session comes back by itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab, sleep, type HelperClient, type LabServer } from '../peers/lab/index.js';
import type { EngineConfig } from '../../app/helper-protocol/messages.js';
import { storedProfile } from '../support/stored-profile.js';
import { buildEngineConfig } from '../../main/connection/engine-config.js';
import { connectSession, disconnectSession } from './engine-support.js';

/** The server's keepalive for the recovery tests (`keepalive 10 60`: clients ping-restart after 60 s). */
const PING_RESTART_SEC = 60;
/** "Promptly": well inside one ping-restart, so a session that only recovers through ping-restart fails. */
const PROMPT_RECOVERY_MS = 20_000;

describe('engine survives network faults (stock openvpn 2.6 server)', () => {
  let lab: Lab;
  let helper: HelperClient;

  beforeAll(async () => {
    lab = await Lab.create();
    // A real NIC puts each datagram on the wire alone; the veth would carry the engine's UDP GSO
    // runs to the server namespace whole, so nft would drop (or measure) a run as one packet.
    await lab.inClient('ip', ['link', 'set', 'dev', lab.netns.clientDevice, 'gso_max_segs', '1']);
    helper = await lab.startHelper();
  });

  afterAll(async () => {
    await lab?.close();
  });

  /** The client namespace's veth device, the "physical" interface of the client. */
  const clientLink = () => lab.netns.clientDevice;

  /** One ping through the tunnel: true if it came back within a second. */
  async function tunnelAnswers(server: LabServer): Promise<boolean> {
    const r = await lab.inClient('ping', ['-c', '1', '-W', '1', server.info.tunnelAddress], { check: false, timeoutMs: 5_000 });
    return r.code === 0;
  }

  /** Milliseconds until a ping through the tunnel answers again; throws after `boundMs`. */
  async function timeToRecover(server: LabServer, boundMs: number): Promise<number> {
    const start = Date.now();
    while (!(await tunnelAnswers(server))) {
      if (Date.now() - start > boundMs) throw new Error(`the tunnel did not answer within ${boundMs} ms:\n${helper.transcript()}`);
      await sleep(200);
    }
    return Date.now() - start;
  }

  /** Loads an nft table into the server namespace; returns a function that reads one counter's packets. */
  /** Loads nft `rules` as table `table` where `inNs` runs; returns a reader of its counters. */
  async function loadNft(inNs: Lab['inServer'], table: string, rules: string): Promise<(name: string) => Promise<number>> {
    await inNs('nft', ['-f', '-'], { input: `table inet ${table} {\n${rules}\n}\n` });
    return async (name) => {
      const r = await inNs('nft', ['list', 'counter', 'inet', table, name]);
      return Number(/packets (\d+)/.exec(r.stdout)?.[1] ?? NaN);
    };
  }
  const serverNft = (table: string, rules: string) => loadNft((...a) => lab.inServer(...a), table, rules);

  /** The mssfix main sends for a profile with this `mssfix` line (the importer and engine-config, as a user's profile goes). */
  function mssfixOfProfile(line: string): EngineConfig['mssfix'] {
    const { profile } = storedProfile(`client\nremote vpn.example.test 1194\n${line}\n<ca>\n${lab.pki.ca}</ca>\nauth-user-pass\n`, { id: 'mssfix', name: 'mssfix' });
    const secrets = { key: null, credentials: null, staticKeys: { 'tls-auth': null, 'tls-crypt': null, 'tls-crypt-v2': null }, proxyCredentials: null };
    return buildEngineConfig(profile, secrets, { killSwitch: false, allowLan: true, guiVersion: 'causeway-lab' }).mssfix;
  }

  const dropServerNft = (table: string) => lab.inServer('nft', ['delete', 'table', 'inet', table], { check: false });

  it('carries a 5 MB transfer intact through 5 % loss and 200 ms of delay', async () => {
    const server = await lab.startServer({ proto: 'udp', tlsWrap: 'tls-crypt' });
    // 100 ms each way through the relay, a hop between client and server: 200 ms round trip,
    // on top of which the loss (in the relay's namespace too) falls.
    const relay = await lab.startDelayRelay(server, 100);
    const remotes = [{ host: relay.host, port: relay.port, proto: 'udp' as const, family: 'any' as const }];
    // The loss is in force before the connect: the handshake too happens under it (a handshake
    // that stalls after the reset is tried again, not taken for a refusal of our TLS versions).
    const dropped = await loadNft(
      (...a) => lab.inPath(...a),
      'cwfault_loss',
      [
        'counter lost_in {}',
        'counter lost_out {}',
        `chain in { type filter hook input priority 0; udp dport ${relay.port} numgen random mod 100 < 5 counter name lost_in drop; }`,
        `chain out { type filter hook output priority 0; udp sport ${relay.port} numgen random mod 100 < 5 counter name lost_out drop; }`,
      ].join('\n'),
    );
    try {
      const session = await connectSession(helper, 'lossy', lab.engineConfig(server, {}, { remotes }), 90_000);
      const lostInHandshake = (await dropped('lost_in')) + (await dropped('lost_out'));
      // The fault is there: round trips take the relay's 200 ms, and some of 60 pings are lost.
      const ping = await lab.inClient('ping', ['-c', '60', '-i', '0.05', '-W', '2', server.info.tunnelAddress], { check: false, timeoutMs: 30_000 });
      const minRtt = Number(/= ([\d.]+)\//.exec(ping.stdout)?.[1]);
      // Node's timers may fire a fraction of a millisecond early (199.96 ms was seen); without the
      // relay the tunnel's round trip here is well under 5 ms.
      expect(minRtt).toBeGreaterThanOrEqual(195);

      const bytes = 5 * 1024 * 1024;
      const r = await lab.transfer(server.info.tunnelAddress, bytes, bytes, 240_000);
      expect(r).toMatchObject({ ok: true, upDigestOk: true, downDigestOk: true, up: bytes, down: bytes });
      const lost = (await dropped('lost_in')) + (await dropped('lost_out'));
      console.log(`lossy path: min RTT ${minRtt} ms, ${lostInHandshake} datagrams dropped while connecting, ${lost} in all, 2×5 MB in ${r.ms} ms`);
      expect(lost).toBeGreaterThan(100);
      await disconnectSession(lab, helper, session);
    } finally {
      await lab.inPath('nft', ['delete', 'table', 'inet', 'cwfault_loss'], { check: false });
      await server.stop();
    }
  }, 300_000);

  it('recovers after the link goes down and comes back', async () => {
    const server = await lab.startServer({ proto: 'udp', tlsWrap: 'tls-crypt' });
    try {
      // A user's profile without connect-retry-max retries for as long as the link is gone (the
      // lab's default gives up after 3 attempts, for the tests that wait for failures).
      const session = await connectSession(helper, 'link-flap', lab.engineConfig(server, {}, { connectRetryMax: null }));
      expect(await tunnelAnswers(server)).toBe(true);

      await lab.inClient('ip', ['link', 'set', clientLink(), 'down']);
      expect(await tunnelAnswers(server)).toBe(false);
      await sleep(3_000);
      await lab.inClient('ip', ['link', 'set', clientLink(), 'up']);
      // Taking the link down removed the default route through it; DHCP would put it back.
      await lab.inClient('ip', ['route', 'replace', 'default', 'via', lab.netns.serverAddress]);

      const ms = await timeToRecover(server, PROMPT_RECOVERY_MS);
      console.log(`link down 3 s, then up: tunnel answered again ${ms} ms after the link came back`);
      await disconnectSession(lab, helper, session);
    } finally {
      await server.stop();
    }
  }, 60_000);

  it('recovers promptly when the client moves to a new address (roaming)', async () => {
    const server = await lab.startServer({ proto: 'udp', tlsWrap: 'tls-crypt', keepalive: { interval: 10, timeout: PING_RESTART_SEC } });
    const oldAddress = lab.netns.clientAddress;
    const newAddress = '10.99.0.5';
    try {
      const session = await connectSession(helper, 'roam', lab.engineConfig(server));
      expect(await tunnelAnswers(server)).toBe(true);

      const moved = Date.now();
      await lab.inClient('ip', ['addr', 'del', `${oldAddress}/24`, 'dev', clientLink()]);
      await lab.inClient('ip', ['addr', 'add', `${newAddress}/24`, 'dev', clientLink()]);
      await lab.inClient('ip', ['route', 'replace', 'default', 'via', lab.netns.serverAddress]);
      // The old address is really gone: nothing can still be sent from it.
      const addrs = (await lab.inClient('ip', ['-4', '-o', 'addr', 'show', 'dev', clientLink()])).stdout;
      expect(addrs).not.toContain(`${oldAddress}/`);
      expect(addrs).toContain(`${newAddress}/`);

      const ms = await timeToRecover(server, PROMPT_RECOVERY_MS);
      console.log(`roaming ${oldAddress} -> ${newAddress}: tunnel answered again after ${Date.now() - moved} ms (ping-restart is ${PING_RESTART_SEC} s)`);
      expect(ms).toBeLessThan(PING_RESTART_SEC * 1000);
      // The server now talks to the client at its new address.
      await server.process.waitForLog(new RegExp(newAddress.replaceAll('.', '\\.')), 5_000);
      await disconnectSession(lab, helper, session);
    } finally {
      await lab.inClient('ip', ['addr', 'del', `${newAddress}/24`, 'dev', clientLink()], { check: false });
      await lab.inClient('ip', ['addr', 'replace', `${oldAddress}/24`, 'dev', clientLink()]);
      await lab.inClient('ip', ['route', 'replace', 'default', 'via', lab.netns.serverAddress]);
      await server.stop();
    }
  }, 60_000);

  it('recovers by itself after the helper was frozen past the server keepalive (laptop lid)', async () => {
    // keepalive 1 4: the client ping-restarts after 4 s, the server drops it after 8 s.
    const server = await lab.startServer({ proto: 'udp', tlsWrap: 'tls-crypt', keepalive: { interval: 1, timeout: 4 } });
    try {
      const session = await connectSession(helper, 'lid', lab.engineConfig(server));
      expect(await tunnelAnswers(server)).toBe(true);
      const before = helper.messages.length;

      helper.kill('SIGSTOP');
      try {
        // The fault is real: the server gives up on the frozen client.
        await server.process.waitForLog(/Inactivity timeout/, 20_000);
      } finally {
        helper.kill('SIGCONT');
      }

      const ms = await timeToRecover(server, PROMPT_RECOVERY_MS);
      console.log(`helper frozen past the server's 8 s timeout: tunnel answered again ${ms} ms after SIGCONT`);
      // Nobody sent the helper anything: it reconnected on its own.
      await helper.waitFor((m) => m.type === 'state' && m.session === session && m.phase === 'connected', 5_000, before);
      await disconnectSession(lab, helper, session);
    } finally {
      await server.stop();
    }
  }, 60_000);

  it('keeps TCP working over a path that drops packets over 1300 bytes (mssfix 1300 mtu)', async () => {
    const server = await lab.startServer({ proto: 'udp', tlsWrap: 'tls-crypt' });
    const port = server.info.port;
    // An MTU black hole: large packets vanish both ways, no ICMP says why.
    const dropped = await serverNft(
      'cwfault_mtu',
      [
        'counter big_in {}',
        'counter big_out {}',
        `chain in { type filter hook input priority 0; udp dport ${port} meta length > 1300 counter name big_in drop; }`,
        `chain out { type filter hook output priority 0; udp sport ${port} meta length > 1300 counter name big_out drop; }`,
      ].join('\n'),
    );
    const bigDropped = async () => (await dropped('big_in')) + (await dropped('big_out'));
    try {
      // Without a limit that fits, the fault is real: pings pass, bulk TCP stalls. (The stock
      // server's own default clamp, 1492 mtu, is too large for this path as well.)
      const off = await connectSession(helper, 'mtu-off', lab.engineConfig(server, {}, { mssfix: mssfixOfProfile('mssfix 0') }));
      await lab.ping(server.info.tunnelAddress);
      await expect(lab.transfer(server.info.tunnelAddress, 1 << 20, 1 << 20, 10_000)).rejects.toThrow();
      expect(await bigDropped()).toBeGreaterThan(0);
      await disconnectSession(lab, helper, off);

      // A profile's `mssfix 1300 mtu`, as main sends it: the transfer completes, nothing large is sent.
      const session = await connectSession(helper, 'mtu-fix', lab.engineConfig(server, {}, { mssfix: mssfixOfProfile('mssfix 1300 mtu') }));
      const before = await bigDropped();
      const bytes = 2 * 1024 * 1024;
      const r = await lab.transfer(server.info.tunnelAddress, bytes, bytes, 60_000);
      expect(r).toMatchObject({ ok: true, upDigestOk: true, downDigestOk: true, up: bytes, down: bytes });
      expect(await bigDropped()).toBe(before);
      await disconnectSession(lab, helper, session);
    } finally {
      await dropServerNft('cwfault_mtu');
      await server.stop();
    }
  }, 90_000);
});
