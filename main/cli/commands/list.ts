// causeway list [--json]
import { openProfileStore, printJson, type Command } from '../context.js';
import { parseCommandArgs } from '../parse-args.js';
import { profileSummary } from '../profile-view.js';

const usage = `usage: causeway list [--json]

Lists stored profiles. --json prints {profiles: [{id, name, auth, remotes, isAws, importedAt}],
damaged: [{file, reason}]}. A damaged profile file is reported and left untouched.`;

export const listCommand: Command = {
  summary: 'list stored profiles',
  usage,
  async run(args, io) {
    const { values } = parseCommandArgs(args, { json: { type: 'boolean', default: false } }, usage);
    const store = await openProfileStore(io);
    const { profiles, damaged } = store.list();
    for (const d of damaged) io.stderr(`warning: ${d.file} is damaged and was skipped (${d.reason}); it was left as it is\n`);
    if (values.json) {
      printJson(io, { profiles: profiles.map(profileSummary), damaged });
      return 0;
    }
    if (profiles.length === 0) {
      io.stdout('No profiles yet. Import one with: causeway import <file.ovpn>\n');
      return 0;
    }
    const rows = profiles.map((p) => {
      const s = profileSummary(p);
      return [s.name, s.id, s.auth, s.remotes[0] ?? ''];
    });
    const header = ['NAME', 'ID', 'SIGN-IN', 'SERVER'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    for (const r of [header, ...rows]) io.stdout(`${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}\n`);
    return 0;
  },
};
