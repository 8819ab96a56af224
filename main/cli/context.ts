// What a CLI command gets from the dispatcher: its arguments' environment and output streams,
// and the stores, opened the same way the desktop app opens them.
import { homedir } from 'node:os';
import type { SecretStore } from '../secrets/secret-store.js';
import { openSecretStore } from '../secrets/index.js';
import { profilesDir } from '../profiles/paths.js';
import { ProfileStore } from '../profiles/store.js';

export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Tests inject a store here; by default openSecretStore() picks the OS keyring. */
  openSecrets?: () => Promise<SecretStore>;
}

export interface Command {
  /** One line for `causeway --help`. */
  summary: string;
  /** Full usage, printed by `causeway help <command>` and on bad arguments. */
  usage: string;
  /** Returns the exit status: 0 success, 1 bad input (reason already written to stderr). */
  run(args: string[], io: CliIO): Promise<number>;
}

/** A user-facing failure: the dispatcher prints the message to stderr and exits 1. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

export function homeOf(io: CliIO): string {
  return io.env.HOME || io.env.USERPROFILE || homedir();
}

export async function openProfileStore(io: CliIO): Promise<ProfileStore> {
  let secrets: SecretStore;
  try {
    secrets = io.openSecrets ? await io.openSecrets() : await openSecretStore({ env: io.env });
  } catch (e) {
    // e.g. CAUSEWAY_SECRET_STORE set to something unknown: the user's input, so exit 1.
    throw new CliError(`the secret store cannot be opened: ${e instanceof Error ? e.message : String(e)}`);
  }
  return new ProfileStore(profilesDir({ env: io.env, home: homeOf(io) }), secrets);
}

/** `--json` output: one JSON document and a newline. */
export function printJson(io: CliIO, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}
