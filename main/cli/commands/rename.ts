// causeway rename <profile> <new-name> [--json]
import { CliError, openProfileStore, printJson, type Command } from '../context.js';
import { parseCommandArgs } from '../parse-args.js';
import { profileSummary } from '../profile-view.js';

const usage = `usage: causeway rename <profile> <new-name> [--json]

Gives a stored profile (id or name) a new display name; the id does not change.`;

export const renameCommand: Command = {
  summary: 'rename a stored profile',
  usage,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean', default: false } }, usage);
    if (positionals.length !== 2) throw new CliError(`rename needs a profile and a new name\n${usage}`);
    const profile = (await openProfileStore(io)).rename(positionals[0]!, positionals[1]!);
    if (values.json) printJson(io, profileSummary(profile));
    else io.stdout(`Renamed ${profile.id} to "${profile.name}".\n`);
    return 0;
  },
};
