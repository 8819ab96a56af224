// Remotes reached over IPv6 outside the tunnel: a profile's `proto udp6` / `tcp6`, a name with
// only an AAAA record, and a dual-stack name (as AWS Client VPN endpoints have since 2025) whose
// IPv4 address does not answer. Each profile goes through the importer, its remotes into the
// EngineConfig, and the helper connects to a stock openvpn server listening on IPv6 only.
import { describe, expect, it } from 'vitest';
import { checkProfile } from '../../app/profile/index.js';
import type { Remote } from '../../app/helper-protocol/messages.js';
import type { LabServer } from '../peers/lab/index.js';
import { useLab } from '../peers/lab/suite.js';

const V6_ONLY = 'v6only.lab.test';
const DUAL = 'dual.lab.test';

describe('remotes over IPv6 in the namespace lab', () => {
  let lanServer: string;
  const t = useLab({
    prepare: async (lab) => {
      lanServer = (await lab.addLanIpv6()).server;
      // The IPv4 address the dual-stack name also has: the server namespace answers it with ICMP
      // port unreachable (nothing listens there on IPv4).
      lab.setClientHosts([
        [lanServer, V6_ONLY],
        [lab.netns.serverAddress, DUAL],
        [lanServer, DUAL],
      ]);
    },
    servers: () => ({
      udp6: { proto: 'udp', tlsWrap: 'tls-crypt', extra: ['proto udp6', `local ${lanServer}`] },
      tcp6: { proto: 'tcp', tlsWrap: 'tls-crypt', extra: ['proto tcp6-server', `local ${lanServer}`] },
    }),
    timeoutMs: 60_000,
  });

  /** The remotes the importer makes of `lines`, for the lab's CA. */
  function importedRemotes(lines: string): Remote[] {
    const v = checkProfile(`client\ndev tun\n${lines}\n<ca>\n${t.lab.pki.ca}</ca>\n`);
    expect(v.errors).toEqual([]);
    return v.settings!.remotes;
  }

  async function connects(session: string, server: LabServer, remotes: Remote[]): Promise<string> {
    const since = t.helper.messages.length;
    t.helper.connect(session, t.lab.engineConfig(server, {}, { remotes }));
    await t.helper.waitForPhase(session, 'connected', 30_000);
    await t.lab.ping(server.info.tunnelAddress);
    const connected = t.helper.messages
      .slice(since)
      .find((m) => m.type === 'state' && m.session === session && m.phase === 'connected');
    t.helper.disconnect(session);
    await t.helper.waitForPhase(session, 'disconnected', 10_000);
    return connected?.type === 'state' ? (connected.remote?.address ?? '') : '';
  }

  it('proto udp6 to a name with only an AAAA record', async () => {
    const remotes = importedRemotes(`proto udp6\nremote ${V6_ONLY} ${t.servers.udp6.info.port}`);
    expect(remotes).toEqual([{ host: V6_ONLY, port: t.servers.udp6.info.port, proto: 'udp', family: 'ipv6' }]);
    expect(await connects('udp6', t.servers.udp6, remotes)).toBe('fd99::1');
  });

  it('proto tcp6 to an IPv6 literal', async () => {
    const remotes = importedRemotes(`proto tcp6\nremote fd99::1 ${t.servers.tcp6.info.port}`);
    expect(remotes[0]!.family).toBe('ipv6');
    expect(await connects('tcp6', t.servers.tcp6, remotes)).toBe('fd99::1');
  });

  it('a dual-stack name whose IPv4 address does not answer is reached over IPv6', async () => {
    const remotes = importedRemotes(`proto udp\nremote ${DUAL} ${t.servers.udp6.info.port}`);
    expect(remotes[0]!.family).toBe('any');
    expect(await connects('dual', t.servers.udp6, remotes)).toBe('fd99::1');
  });

  it('proto udp4 never dials the IPv6 address of a dual-stack name', async () => {
    const remotes = importedRemotes(`proto udp4\nremote ${DUAL} ${t.servers.udp6.info.port}`);
    const since = t.helper.messages.length;
    t.helper.connect('udp4', t.lab.engineConfig(t.servers.udp6, {}, { remotes, connectRetryMax: 1, handshakeWindowSec: 5 }));
    await t.helper.waitFor((m) => m.type === 'state' && m.session === 'udp4' && m.phase === 'failed', 30_000, since);
    const dialed = t.helper.messages
      .slice(since)
      .flatMap((m) => (m.type === 'state' && m.session === 'udp4' && m.remote ? [m.remote.address] : []));
    expect(dialed.length).toBeGreaterThan(0);
    expect(dialed.every((a) => a === t.lab.netns.serverAddress)).toBe(true);
  });

  it('refuses at import a literal of the family its proto excludes', () => {
    const v = checkProfile(`client\nproto udp4\nremote fd99::1 1194\n<ca>\n${t.lab.pki.ca}</ca>\n`);
    expect(v.errors.map((e) => e.message)).toContain('remote fd99::1 is not an IPv4 address, but its proto allows only IPv4');
  });
});
