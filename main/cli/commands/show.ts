// causeway show <profile> [--json]
import { CliError, openProfileStore, printJson, type Command } from '../context.js';
import { parseCommandArgs } from '../parse-args.js';
import { describeProfile, profileView } from '../profile-view.js';

const usage = `usage: causeway show <profile> [--json]

Shows a stored profile (<profile> is its id or its name). Keys and passwords are never shown:
certificates are summarized and keys only reported as present. --json prints the profile
with the same redaction, and secretStore: where its secrets are kept ("secret-service",
"keychain", "wincred", "file" or "memory").`;

export const showCommand: Command = {
  summary: 'show a stored profile (never its secrets)',
  usage,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean', default: false } }, usage);
    if (positionals.length !== 1) throw new CliError(`show needs one profile id or name\n${usage}`);
    const store = await openProfileStore(io);
    const profile = store.resolve(positionals[0]!);
    if (values.json) printJson(io, { ...profileView(profile), secretStore: store.secretBackend });
    else io.stdout(`${describeProfile(profile)}  secrets:        kept in ${store.secretsWhere}\n`);
    return 0;
  },
};
