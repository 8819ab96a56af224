// causeway logs <profile> [--lines N]
import { parseCommandArgs } from '../parse-args.js';
import { CliError, homeOf, openProfileStore, type Command } from '../context.js';
import { logDir, readProfileLog } from '../../connection/session-log.js';

const usage = `usage: causeway logs <profile> [--lines N]

Prints the connection log of a profile (id or name), oldest first: state changes, what the
server pushed, and the helper's messages. Secrets are removed before anything is logged.
--lines N prints only the last N lines.`;

export const logsCommand: Command = {
  summary: "print a profile's connection log",
  usage,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, { lines: { type: 'string' } }, usage);
    if (positionals.length !== 1) throw new CliError(`give exactly one profile\n${usage}`);
    const count = values.lines === undefined ? null : Number(values.lines);
    if (count !== null && (!Number.isInteger(count) || count <= 0)) throw new CliError('--lines needs a positive whole number');
    const profile = (await openProfileStore(io)).resolve(positionals[0]!);
    const lines = readProfileLog(logDir({ ...io.env, HOME: homeOf(io) }), profile.id);
    if (lines.length === 0) {
      io.stdout(`No log for ${profile.name} yet; it is written when the profile connects.\n`);
      return 0;
    }
    for (const line of count === null ? lines : lines.slice(-count)) io.stdout(`${line}\n`);
    return 0;
  },
};
