// causeway disconnect [<profile>|--all]
import { parseCommandArgs } from '../parse-args.js';
import { CliError, type Command } from '../context.js';
import { controlDir, queryAll } from '../../connection/control.js';

const usage = `usage: causeway disconnect <profile> | --all

Disconnects a profile (id or name) that a \`causeway connect\` of this user is running, or all of
them with --all, and waits until routes and DNS are restored. Exit 1 when nothing matched.`;

export const disconnectCommand: Command = {
  summary: 'disconnect a running connection',
  usage,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, { all: { type: 'boolean', default: false } }, usage);
    if (values.all === (positionals.length === 1) || positionals.length > 1) {
      throw new CliError(`give one profile or --all\n${usage}`);
    }
    const profile = values.all ? null : positionals[0]!;
    const replies = await queryAll({ op: 'disconnect', profile }, controlDir(io.env));
    for (const r of replies) if (!r.ok) io.stderr(`causeway: process ${r.pid}: ${r.error}\n`);
    const done = replies.flatMap((r) => (r.ok ? r.sessions : []));
    if (done.length === 0) {
      io.stderr(profile ? `causeway: "${profile}" is not connected\n` : 'causeway: nothing is connected\n');
      return 1;
    }
    for (const s of done) io.stdout(`${s.profileName}: disconnected\n`);
    return 0;
  },
};
