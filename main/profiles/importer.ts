// Importing a .ovpn file from disk: read it (a regular file of sane size), check it against the
// import policy with references read from its own folder, ask for the passphrase of an encrypted
// key or PKCS#12 bundle, and store it unless this is a dry run.
import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import { checkProfile, type PassphraseNeed, type Profile, type ProfileIssue, type ProfileSettings, type ProfileVerdict, type ReadReference } from '../../app/profile/index.js';
import { MAX_PROFILE_BYTES } from '../../app/profile/decode.js';
import { decryptPrivateKey } from '../certs/certificate.js';
import { readProfilePkcs12 } from './pkcs12.js';
import { folderReader } from './reference-reader.js';
import { ProfileStoreError, type ProfileStore } from './store.js';
import { readFd } from './read-fd.js';

export interface ImportOutcome {
  ok: boolean;
  /** The stored profile; for a dry run, what would be stored (id "", not saved). */
  profile: Profile | null;
  warnings: ProfileIssue[];
  errors: ProfileIssue[];
  /** Set when the user declined to answer (no passphrase given): the file itself is not at fault. */
  cancelled?: true;
}

export interface ImportOptions {
  /** Display name; default: the file name without its extension (made unique). */
  name?: string;
  dryRun?: boolean;
  importer?: Profile['source']['importer'];
  /** Applied on top of what the file says (e.g. the AWS VPN Client's endpoint id). */
  adjust?: (settings: ProfileSettings) => ProfileSettings;
  /** Asks the user for the passphrase of an encrypted key; absent: such profiles are refused with the reason. */
  askPassphrase?: AskKeyPassphrase;
}

/** A question for the passphrase of a profile's encrypted key or PKCS#12 bundle. */
export interface KeyPassphraseRequest extends PassphraseNeed {
  /** The profile's file name (or null for bytes without one), to say which profile asks. */
  fileName: string | null;
}

/** Resolves to the passphrase, or null when the user gives none (cancel, end of input). */
export type AskKeyPassphrase = (request: KeyPassphraseRequest) => Promise<string | null>;

/** How often a wrong passphrase is asked again before the import fails. */
export const PASSPHRASE_TRIES = 3;

const failed = (message: string, warnings: ProfileIssue[] = []): ImportOutcome => ({
  ok: false,
  profile: null,
  warnings,
  errors: [{ line: null, directive: null, message }],
});

/** Reads the profile file itself, refusing non-files and oversized files before reading them. */
function readProfileFile(path: string): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ProfileStoreError(code === 'ENOENT' ? `the file "${path}" does not exist` : `the file "${path}" cannot be opened (${code})`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new ProfileStoreError(`"${path}" is not a regular file`);
    if (st.size > MAX_PROFILE_BYTES) {
      throw new ProfileStoreError(
        `the file is ${(st.size / 1024 / 1024).toFixed(1)} MiB; profiles larger than ${MAX_PROFILE_BYTES / 1024 / 1024} MiB are not imported`,
      );
    }
    return readFd(fd, st.size);
  } finally {
    closeSync(fd);
  }
}

export async function importOvpnFile(store: ProfileStore, path: string, options: ImportOptions = {}): Promise<ImportOutcome> {
  const full = resolve(path);
  let bytes: Uint8Array;
  try {
    bytes = readProfileFile(full);
  } catch (e) {
    if (e instanceof ProfileStoreError) return failed(e.message);
    throw e;
  }
  const verdict = await check(bytes, folderReader(full), basename(full), options.askPassphrase);
  if (verdict === null) return { ...failed(NO_PASSPHRASE), cancelled: true };
  return keep(store, verdict, basename(full, extname(full)), { fileName: basename(full), importer: options.importer ?? 'ovpn' }, options);
}

const NO_PASSPHRASE = 'no passphrase was given for the encrypted key; nothing was imported';

/**
 * Checks the profile; while its key is locked and the user can be asked, asks for the passphrase
 * and checks again with it (at most PASSPHRASE_TRIES answers). Null: the user gave no passphrase.
 */
async function check(bytes: Uint8Array, readReference: ReadReference | undefined, fileName: string | null, ask: AskKeyPassphrase | undefined): Promise<ProfileVerdict | null> {
  const run = (passphrase: string | null) =>
    checkProfile(bytes, { ...(readReference ? { readReference } : {}), readPkcs12: readProfilePkcs12, decryptKey: decryptPrivateKey, passphrase });
  let verdict = run(null);
  for (let tries = 0; ask && verdict.passphrase && tries < PASSPHRASE_TRIES; tries++) {
    const passphrase = await ask({ ...verdict.passphrase, fileName });
    if (passphrase === null) return null;
    verdict = run(passphrase);
  }
  return verdict;
}

/**
 * Imports profile bytes that came without their folder (the desktop app's file picker or a
 * drop): file references cannot be read and are refused with a message saying so.
 */
export async function importOvpnBytes(
  store: ProfileStore,
  bytes: Uint8Array,
  options: ImportOptions & { fileName?: string | null } = {},
): Promise<ImportOutcome> {
  const fileName = options.fileName ?? null;
  const defaultName = fileName ? basename(fileName, extname(fileName)) : 'profile';
  const verdict = await check(bytes, undefined, fileName, options.askPassphrase);
  if (verdict === null) return { ...failed(NO_PASSPHRASE), cancelled: true };
  return keep(store, verdict, defaultName, { fileName, importer: options.importer ?? 'ovpn' }, options);
}

/** Stores an accepted verdict (or, for a dry run, checks that it could be stored). */
async function keep(
  store: ProfileStore,
  verdict: ProfileVerdict,
  defaultName: string,
  source: Profile['source'],
  options: ImportOptions,
): Promise<ImportOutcome> {
  if (!verdict.ok || !verdict.settings) return { ok: false, profile: null, warnings: verdict.warnings, errors: verdict.errors };
  const settings = options.adjust ? options.adjust(verdict.settings) : verdict.settings;
  try {
    const name = options.name !== undefined ? store.checkNewName(options.name) : store.freeName(defaultName || 'profile');
    if (options.dryRun) {
      store.assertCanKeep(verdict.secrets);
      const preview: Profile = { schemaVersion: 1, id: '', name, importedAt: new Date().toISOString(), source, ...settings, ...store.newProfileLeakProtection() };
      return { ok: true, profile: preview, warnings: verdict.warnings, errors: [] };
    }
    const profile = await store.add(settings, verdict.secrets, { name, source });
    return { ok: true, profile, warnings: verdict.warnings, errors: [] };
  } catch (e) {
    if (e instanceof ProfileStoreError) return failed(e.message, verdict.warnings);
    throw e;
  }
}
