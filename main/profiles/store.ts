// ProfileStore: one JSON file per profile (`<id>.json`, mode 0600) in the profiles folder.
//
// - Writes are atomic: a temp file in the same folder, fsync, rename, fsync of the folder; a
//   crash leaves the old file or the new one, never half of one.
// - A file that cannot be read as a profile is reported by list() and skipped; the store
//   never rewrites or deletes it (ids are random, so a new profile never lands on it).
// - Private keys, saved passwords and tls-auth/tls-crypt/tls-crypt-v2 keys go to the SecretStore
//   (secret-accounts.ts), never into the JSON. A store that cannot keep secrets (persistent=false)
//   makes add() refuse a profile that carries one, with the reason.
// - Profiles stored before the static keys became secrets still carry them in their JSON; they
//   are read as before, and moveLegacyKeys() moves the keys into the SecretStore and rewrites them.
// - Profiles stored before the leak-protection settings existed read with the built-in defaults
//   (kill switch off, LAN allowed); new profiles get the user's defaults (leak-defaults.ts).
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_LEAK_PROTECTION, PROFILE_SCHEMA_VERSION, type LeakProtection, type Profile, type ProfileSecrets, type ProfileSettings } from '../../app/profile/index.js';
import type { SecretStore } from '../secrets/secret-store.js';
import { describeSecretStore } from '../secrets/index.js';
import type { LeakDefaults } from './leak-defaults.js';
import { keyAccount, passwordAccount, proxyCredentialsAccount, STATIC_KEY_KINDS, staticKeyAccount, type StaticKeyKind, type StaticKeys } from './secret-accounts.js';

/** A user-facing failure of a store operation (bad name, unknown profile, secrets unavailable). */
export class ProfileStoreError extends Error {
  override readonly name = 'ProfileStoreError';
}

export interface DamagedProfile {
  file: string;
  reason: string;
}

export interface ProfileList {
  profiles: Profile[];
  damaged: DamagedProfile[];
}

export { keyAccount, passwordAccount } from './secret-accounts.js';

/**
 * A stored profile in the shape written before the static keys became secrets: the key text in
 * `tlsAuth.key`, `tlsCrypt` and `tlsCryptV2`. Returns the keys it carries (and strips them from
 * `p`), or null for a current profile.
 */
function takeLegacyKeys(p: Record<string, unknown>): StaticKeys | null {
  const tlsAuth = p.tlsAuth as { key?: unknown; direction?: unknown } | null | undefined;
  const legacy = typeof tlsAuth?.key === 'string' || typeof p.tlsCrypt === 'string' || typeof p.tlsCryptV2 === 'string';
  if (!legacy) return null;
  const keys: StaticKeys = {
    'tls-auth': typeof tlsAuth?.key === 'string' ? tlsAuth.key : null,
    'tls-crypt': typeof p.tlsCrypt === 'string' ? p.tlsCrypt : null,
    'tls-crypt-v2': typeof p.tlsCryptV2 === 'string' ? p.tlsCryptV2 : null,
  };
  if (tlsAuth) p.tlsAuth = { direction: tlsAuth.direction ?? null };
  p.tlsCrypt = keys['tls-crypt'] !== null;
  p.tlsCryptV2 = keys['tls-crypt-v2'] !== null;
  return keys;
}

const ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;
const MAX_NAME = 100;

/** Checks a display name; returns it trimmed. */
export function validName(name: string): string {
  const trimmed = name.trim();
  if (trimmed === '') throw new ProfileStoreError('a profile name cannot be empty');
  if (trimmed.length > MAX_NAME) throw new ProfileStoreError(`a profile name can be at most ${MAX_NAME} characters`);
  if (/\p{Cc}/u.test(trimmed)) throw new ProfileStoreError('a profile name cannot contain control characters');
  return trimmed;
}

/** Readable, unique-enough id: a slug of the name and 6 random hex digits ("corp-vpn-3f9a2c"). */
function newId(name: string): string {
  const slug = name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  const suffix = randomBytes(3).toString('hex');
  return slug ? `${slug}-${suffix}` : `profile-${suffix}`;
}

/** Minimal shape check of a stored profile: enough that callers can rely on the fields they use. */
function asProfile(value: unknown, fileId: string, legacyKeys: Map<string, StaticKeys>): Profile {
  const p = value as Partial<Profile> | null;
  if (typeof p !== 'object' || p === null) throw new Error('not a JSON object');
  const legacy = takeLegacyKeys(p as Record<string, unknown>);
  if (legacy) legacyKeys.set(fileId, legacy);
  // Profiles stored before mssfix kept its mode hold the bare number, which meant UDP payload bytes.
  if (typeof p.mssFix === 'number') p.mssFix = { max: p.mssFix, mode: 'payload' };
  if (p.schemaVersion !== PROFILE_SCHEMA_VERSION) throw new Error(`unsupported schemaVersion ${JSON.stringify(p.schemaVersion)}`);
  if (p.id !== fileId) throw new Error('its id does not match its file name');
  if (typeof p.name !== 'string' || p.name.trim() === '') throw new Error('it has no name');
  if (!Array.isArray(p.remotes) || p.remotes.length === 0) throw new Error('it has no remotes');
  if (typeof p.ca !== 'string' || typeof p.auth !== 'object' || p.auth === null) throw new Error('it lacks ca or auth');
  for (const setting of ['killSwitch', 'allowLan'] as const) {
    if (p[setting] === undefined) p[setting] = DEFAULT_LEAK_PROTECTION[setting];
    else if (typeof p[setting] !== 'boolean') throw new Error(`its ${setting} is neither true nor false`);
  }
  return p as Profile;
}

export class ProfileStore {
  /** Static keys of profiles read in the old shape (keys in the JSON), by id, until moved. */
  private readonly legacyKeys = new Map<string, StaticKeys>();

  constructor(
    /** The profiles folder (see paths.ts profilesDir). Created on first write. */
    readonly dir: string,
    /** Null for a dry run: nothing may read or write a secret, no keyring is even asked. */
    private readonly secretStore: SecretStore | null,
    /** The user's leak protection for new profiles; without it they get the built-in defaults. */
    private readonly leakDefaults: LeakDefaults | null = null,
  ) {}

  /** The kill switch and LAN access a profile imported now gets. */
  newProfileLeakProtection(): LeakProtection {
    return this.leakDefaults?.read() ?? { ...DEFAULT_LEAK_PROTECTION };
  }

  private get secrets(): SecretStore {
    if (!this.secretStore) throw new ProfileStoreError('a dry run opens no secret store');
    return this.secretStore;
  }

  list(): ProfileList {
    let files: string[];
    try {
      files = readdirSync(this.dir).filter((f) => f.endsWith('.json') && !f.startsWith('.'));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return { profiles: [], damaged: [] };
      if (code === 'ENOTDIR') throw new ProfileStoreError(`the profiles folder ${this.dir} is not a folder`);
      throw e;
    }
    const profiles: Profile[] = [];
    const damaged: DamagedProfile[] = [];
    for (const file of files.sort()) {
      const id = file.slice(0, -'.json'.length);
      try {
        if (!ID_PATTERN.test(id)) throw new Error('its file name is not a profile id');
        profiles.push(asProfile(JSON.parse(readFileSync(join(this.dir, file), 'utf8')), id, this.legacyKeys));
      } catch (e) {
        damaged.push({ file: join(this.dir, file), reason: e instanceof Error ? e.message : String(e) });
      }
    }
    profiles.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
    return { profiles, damaged };
  }

  /** Finds a profile by id, or by a name that only one profile has. */
  resolve(idOrName: string): Profile {
    const { profiles } = this.list();
    const byId = profiles.find((p) => p.id === idOrName);
    if (byId) return byId;
    const exact = profiles.filter((p) => p.name === idOrName);
    const matches = exact.length ? exact : profiles.filter((p) => p.name.toLowerCase() === idOrName.toLowerCase());
    if (matches.length === 1) return matches[0]!;
    if (matches.length > 1) {
      throw new ProfileStoreError(`${matches.length} profiles are named "${idOrName}"; use the id (${matches.map((m) => m.id).join(', ')})`);
    }
    throw new ProfileStoreError(`no profile has the id or name "${idOrName}" (see causeway list)`);
  }

  /** A name no profile has yet: `name`, else "name (2)", "name (3)", … */
  freeName(name: string): string {
    const taken = new Set(this.list().profiles.map((p) => p.name.toLowerCase()));
    const base = validName(name);
    if (!taken.has(base.toLowerCase())) return base;
    for (let i = 2; ; i++) {
      const candidate = `${base} (${i})`;
      if (!taken.has(candidate.toLowerCase())) return candidate;
    }
  }

  /** Validates a name for a new profile (or a rename of `exceptId`); returns it trimmed. */
  checkNewName(name: string, exceptId: string | null = null): string {
    const trimmed = validName(name);
    this.assertNameFree(trimmed, exceptId);
    return trimmed;
  }

  private assertNameFree(name: string, exceptId: string | null): void {
    const clash = this.list().profiles.find((p) => p.name.toLowerCase() === name.toLowerCase() && p.id !== exceptId);
    if (clash) throw new ProfileStoreError(`a profile named "${clash.name}" already exists (id ${clash.id})`);
  }

  /** Which backend keeps this store's secrets (`causeway show`'s secretStore); null for a dry run. */
  get secretBackend(): SecretStore['backend'] | null {
    return this.secretStore?.backend ?? null;
  }

  /** Where the secrets are, in words (null for a dry run). */
  get secretsWhere(): string | null {
    return this.secretStore ? describeSecretStore(this.secretStore) : null;
  }

  /** Refuses, with the reason, secrets this store would lose when the process exits. */
  assertCanKeep(secrets: ProfileSecrets): void {
    const carried = [
      secrets.key !== null ? 'a private key' : null,
      secrets.password !== null ? 'a saved password' : null,
      secrets.tlsAuth !== null || secrets.tlsCrypt !== null || secrets.tlsCryptV2 !== null ? 'a tls-auth/tls-crypt key' : null,
      secrets.proxyCredentials !== null ? 'a proxy password' : null,
    ].filter(Boolean);
    // A dry run opens no store: where no keyring answers, the encrypted file store keeps them.
    if (carried.length && this.secretStore && !this.secretStore.persistent) {
      throw new ProfileStoreError(
        `this profile carries ${carried.join(' and ')}, which Causeway keeps only in a secret store, and none can keep it: ${this.secrets.reason ?? 'secrets would be lost when this program exits'}`,
      );
    }
  }

  /** Stores a new profile and its secrets. Nothing is written if any part fails. */
  async add(settings: ProfileSettings, secrets: ProfileSecrets, meta: { name: string; source: Profile['source']; now?: Date }): Promise<Profile> {
    const name = this.checkNewName(meta.name);
    this.assertCanKeep(secrets);
    const profile: Profile = {
      schemaVersion: PROFILE_SCHEMA_VERSION,
      id: this.unusedId(name),
      name,
      importedAt: (meta.now ?? new Date()).toISOString(),
      source: meta.source,
      ...settings,
      ...this.newProfileLeakProtection(),
    };
    const written: string[] = [];
    try {
      if (secrets.key !== null) {
        await this.secrets.set(keyAccount(profile.id), secrets.key);
        written.push(keyAccount(profile.id));
      }
      if (secrets.password !== null) {
        await this.secrets.set(passwordAccount(profile.id), secrets.password);
        written.push(passwordAccount(profile.id));
      }
      for (const kind of STATIC_KEY_KINDS) {
        const text = staticKeyOf(secrets, kind);
        if (text === null) continue;
        await this.secrets.set(staticKeyAccount(profile.id, kind), text);
        written.push(staticKeyAccount(profile.id, kind));
      }
      if (secrets.proxyCredentials !== null) {
        await this.secrets.set(proxyCredentialsAccount(profile.id), JSON.stringify(secrets.proxyCredentials));
        written.push(proxyCredentialsAccount(profile.id));
      }
      this.write(profile);
    } catch (e) {
      for (const account of written) await this.secrets.delete(account).catch(() => undefined);
      if (e instanceof ProfileStoreError) throw e;
      throw new ProfileStoreError(`the profile could not be saved: ${e instanceof Error ? e.message : String(e)}`);
    }
    return profile;
  }

  rename(idOrName: string, newName: string): Profile {
    const profile = this.resolve(idOrName);
    const name = this.checkNewName(newName, profile.id);
    const renamed = { ...profile, name };
    this.write(renamed);
    return renamed;
  }

  /** Changes a profile's kill switch and/or LAN access; the next connection uses them. */
  setLeakProtection(idOrName: string, change: Partial<LeakProtection>): Profile {
    const profile = this.resolve(idOrName);
    const changed = {
      ...profile,
      ...(change.killSwitch !== undefined ? { killSwitch: change.killSwitch } : {}),
      ...(change.allowLan !== undefined ? { allowLan: change.allowLan } : {}),
    };
    this.write(changed);
    return changed;
  }

  /** Rewrites an existing profile (e.g. a certificate attached by the CertStore). */
  replace(profile: Profile): Profile {
    if (this.resolve(profile.id).id !== profile.id) throw new ProfileStoreError(`no profile has the id "${profile.id}"`);
    this.write(profile);
    return profile;
  }

  /** Deletes the profile file, then its secrets. */
  async remove(idOrName: string): Promise<Profile> {
    const profile = this.resolve(idOrName);
    rmSync(join(this.dir, `${profile.id}.json`));
    await this.secrets.delete(keyAccount(profile.id));
    await this.secrets.delete(passwordAccount(profile.id));
    for (const kind of STATIC_KEY_KINDS) await this.secrets.delete(staticKeyAccount(profile.id, kind));
    await this.secrets.delete(proxyCredentialsAccount(profile.id));
    this.legacyKeys.delete(profile.id);
    return profile;
  }

  /**
   * Moves the static keys of profiles stored in the old shape into the SecretStore and rewrites
   * their JSON without them. A store that cannot keep secrets gets a copy for this process and the
   * JSON is left as it is, so nothing is lost. Returns the ids of the profiles rewritten.
   */
  async moveLegacyKeys(): Promise<string[]> {
    this.list();
    const moved: string[] = [];
    for (const [id, keys] of [...this.legacyKeys]) {
      const profile = this.list().profiles.find((p) => p.id === id);
      if (!profile) continue;
      for (const kind of STATIC_KEY_KINDS) {
        const text = keys[kind];
        if (text !== null) await this.secrets.set(staticKeyAccount(id, kind), text);
      }
      if (!this.secrets.persistent) continue;
      // Keys first, then the JSON: a failure in between leaves them in both places, never in neither.
      this.write(profile);
      this.legacyKeys.delete(id);
      moved.push(id);
    }
    return moved;
  }

  /** The profile's private key, for building the engine config (never for display). */
  async privateKey(profile: Profile): Promise<string | null> {
    return profile.hasKey ? this.secrets.get(keyAccount(profile.id)) : null;
  }

  /** The password from an inline <auth-user-pass> block, if one was saved. */
  async savedPassword(profile: Profile): Promise<string | null> {
    return profile.auth.hasSavedPassword ? this.secrets.get(passwordAccount(profile.id)) : null;
  }

  /** A new id whose file does not exist yet (never lands on another profile, damaged or not). */
  private unusedId(name: string): string {
    for (;;) {
      const id = newId(name);
      if (!existsSync(join(this.dir, `${id}.json`))) return id;
    }
  }

  /** Atomic replace of `<id>.json`. */
  private write(profile: Profile): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const target = join(this.dir, `${profile.id}.json`);
    const temp = join(this.dir, `.${profile.id}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    const fd = openSync(temp, 'wx', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(profile, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      renameSync(temp, target);
    } catch (e) {
      rmSync(temp, { force: true });
      throw e;
    }
    syncDir(this.dir);
  }
}

function staticKeyOf(secrets: ProfileSecrets, kind: StaticKeyKind): string | null {
  return kind === 'tls-auth' ? secrets.tlsAuth : kind === 'tls-crypt' ? secrets.tlsCrypt : secrets.tlsCryptV2;
}

/** Makes the rename durable. Not possible on Windows, where rename is already journaled. */
function syncDir(dir: string): void {
  if (process.platform === 'win32') return;
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
