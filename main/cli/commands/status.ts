// causeway status [--json]
import { parseCommandArgs } from '../parse-args.js';
import { printJson, type Command } from '../context.js';
import { queryAll, controlDir } from '../../connection/control.js';
import { describeState } from '../../../app/connection/messages.js';
import type { SessionSnapshot } from '../../connection/manager.js';

const usage = `usage: causeway status [--json]

Shows every session of the running \`causeway connect\` processes of this user.
--json prints {sessions: [{pid, id, profileId, profileName, state, stats, pushed, banner, retrying}]}.`;

function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m${String(s % 60).padStart(2, '0')}s`;
}

function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

export const statusCommand: Command = {
  summary: 'show running connections',
  usage,
  async run(args, io) {
    const { values } = parseCommandArgs(args, { json: { type: 'boolean', default: false } }, usage);
    const replies = await queryAll({ op: 'status' }, controlDir(io.env));
    const sessions: (SessionSnapshot & { pid: number })[] = replies.flatMap((r) => (r.ok ? r.sessions.map((s) => ({ pid: r.pid, ...s })) : []));
    if (values.json) {
      printJson(io, { sessions });
      return 0;
    }
    if (sessions.length === 0) {
      io.stdout('No connections. Start one with: causeway connect <profile>\n');
      return 0;
    }
    for (const s of sessions) {
      io.stdout(`${s.profileName} (${s.profileId}, pid ${s.pid}): ${describeState(s.state)}\n`);
      if (s.state.phase === 'connected' && s.stats.connectedSince !== null) {
        io.stdout(`  up ${duration(Date.now() - s.stats.connectedSince)}, received ${bytes(s.stats.rxBytes)}, sent ${bytes(s.stats.txBytes)}\n`);
      }
      const p = s.pushed;
      if (p && s.state.phase === 'connected') {
        if (p.ipv4) io.stdout(`  address ${p.ipv4.address}/${p.ipv4.prefix} on ${p.device}\n`);
        if (p.routes.length || p.redirectGateway) io.stdout(`  routes ${p.redirectGateway ? 'all traffic ' : ''}${p.routes.join(' ')}\n`);
        if (p.dns.servers.length) io.stdout(`  dns ${p.dns.servers.join(' ')}\n`);
      }
    }
    return 0;
  },
};
