// What a CLI command gets from the dispatcher: its arguments' environment and output streams,
// and the stores, opened the same way the desktop app opens them.
import { homedir } from 'node:os';
import type { SecretStore } from '../secrets/secret-store.js';
import { openSecretStore, type PassphraseSource } from '../secrets/index.js';
import { configDir, profilesDir } from '../profiles/paths.js';
import { LeakDefaults } from '../profiles/leak-defaults.js';
import { ProfileStore } from '../profiles/store.js';
import { TerminalInput } from './terminal.js';
import { MemoryStore } from '../secrets/memory-store.js';

export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Tests inject a store here; by default openSecretStore() picks the OS keyring. */
  openSecrets?: () => Promise<SecretStore>;
  /** Where answers are read from; default process.stdin (tests give their answers here). */
  stdin?: NodeJS.ReadStream;
  /** Called before the file store's passphrase is asked (connect --json-events announces it). */
  onPassphrasePrompt?: (request: { creating: boolean; path: string }) => void;
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

let terminal: TerminalInput | null = null;

/**
 * The one reader of this process's stdin: every question of a command (file store passphrase,
 * key passphrase, credentials) takes its answer from it in order. Questions go to stderr.
 */
export function cliTerminal(io: CliIO): TerminalInput {
  terminal ??= new TerminalInput(io.stdin ?? process.stdin, (t) => io.stderr(t));
  return terminal;
}

/** Stops reading stdin so the process can exit (the dispatcher calls it after each command). */
export function closeCliTerminal(): void {
  terminal?.close();
  terminal = null;
}

/** Asks for the file store's passphrase on the terminal (twice when creating it on a TTY). */
export function terminalPassphrase(io: CliIO): PassphraseSource {
  return async (request) => {
    io.onPassphrasePrompt?.(request);
    const t = cliTerminal(io);
    if (!request.creating) return t.question(`Passphrase of Causeway's secret file ${request.path}: `, { secret: true });
    t.say(`No keyring answers, so Causeway keeps secrets in the encrypted file ${request.path}. Choose its passphrase (asked again when a secret is needed):\n`);
    const first = await t.question('New passphrase: ', { secret: true });
    if (first === null || !process.stdin.isTTY) return first;
    const again = await t.question('Repeat the passphrase: ', { secret: true });
    if (again !== first) throw new CliError('the two passphrases differ; nothing was stored');
    return first;
  };
}

/** The secret store, opened the same way the desktop app opens it (or the test's). */
export async function openSecrets(io: CliIO): Promise<SecretStore> {
  try {
    return io.openSecrets ? await io.openSecrets() : await openSecretStore({ env: io.env, home: homeOf(io), askPassphrase: terminalPassphrase(io) });
  } catch (e) {
    // e.g. CAUSEWAY_SECRET_STORE set to something unknown: the user's input, so exit 1.
    throw new CliError(`the secret store cannot be opened: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * The profile store. `dryRun` opens no secret store at all (nothing is read or written, no keyring
 * is asked). Otherwise keys of profiles stored before they became secrets are moved first.
 */
export async function openProfileStore(io: CliIO, options: { dryRun?: boolean } = {}): Promise<ProfileStore> {
  const where = { env: io.env, home: homeOf(io) };
  const dir = profilesDir(where);
  // The same defaults for new profiles as the app's Settings screen sets.
  const leakDefaults = LeakDefaults.inDir(configDir(where));
  if (options.dryRun) {
    // The memory store touches nothing outside this process and refuses what a real import would.
    const memory = io.env.CAUSEWAY_SECRET_STORE === 'memory' ? new MemoryStore('CAUSEWAY_SECRET_STORE=memory: secrets are kept in memory for this process only') : null;
    return new ProfileStore(dir, memory, leakDefaults);
  }
  const store = new ProfileStore(dir, await openSecrets(io), leakDefaults);
  try {
    await store.moveLegacyKeys();
  } catch (e) {
    // The keys stay readable where they were; say why they could not be moved yet.
    io.stderr(`note: tls-auth/tls-crypt keys of older profiles stay in their profile files for now: ${e instanceof Error ? e.message : String(e)}\n`);
  }
  return store;
}

/** `--json` output: one JSON document and a newline. */
export function printJson(io: CliIO, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}
