// causeway remove <profile> [--json]
import { CliError, openProfileStore, printJson, type Command } from '../context.js';
import { parseCommandArgs } from '../parse-args.js';
import { profileSummary } from '../profile-view.js';

const usage = `usage: causeway remove <profile> [--json]

Deletes a stored profile (id or name) and its private key and saved password.`;

export const removeCommand: Command = {
  summary: 'remove a stored profile and its secrets',
  usage,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean', default: false } }, usage);
    if (positionals.length !== 1) throw new CliError(`remove needs one profile id or name\n${usage}`);
    const profile = await (await openProfileStore(io)).remove(positionals[0]!);
    if (values.json) printJson(io, profileSummary(profile));
    else io.stdout(`Removed "${profile.name}" (${profile.id}).\n`);
    return 0;
  },
};
