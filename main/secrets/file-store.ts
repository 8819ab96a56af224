// The file-backed SecretStore, for machines where no keyring answers (an SSH session, a minimal
// window manager, a container). It is chosen only then, or with CAUSEWAY_SECRET_STORE=file.
//
// Where the key lives: nowhere on disk. Every secret is sealed with AES-256-GCM under a key derived
// with scrypt from a passphrase the user chooses (asked once per process, or given by scripts in
// CAUSEWAY_SECRET_PASSPHRASE); the account name is the GCM additional data, so an item cannot be
// moved to another account unnoticed. The file holds the scrypt salt and parameters, a sealed check
// value (so a wrong passphrase is reported as such), and the sealed items.
//
// What that protects against: anyone who gets the file without the passphrase — a backup, a copied
// or synced home folder, a stolen disk without full-disk encryption, another local account that can
// read the home folder (the 0700 folder and 0600 file keep it away from them as well). It does not
// protect against programs running as the same user while the store is unlocked, nor a weak
// passphrase (scrypt only makes each guess expensive).
//
// Account names are not secret (`profile/<id>/key`): they are kept in clear so that an item can be
// deleted, and a keyring that appears later can be told which items to take over, without the
// passphrase.
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { closeSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { SecretStore } from './secret-store.js';

/** Asks for the store's passphrase; `creating` when the file does not exist yet (ask twice). Null: the user declined. */
export type PassphraseSource = (request: { creating: boolean; path: string }) => Promise<string | null>;

/** scrypt cost: 2^15 × 8 × 128 B = 32 MiB and about 0.1 s per guess on a laptop core. */
const KDF = { name: 'scrypt', N: 32768, r: 8, p: 1 } as const;
const SCRYPT_MAXMEM = 64 * 1024 * 1024;
const CHECK_AAD = 'causeway-secrets-check';
const CHECK_VALUE = 'causeway';

interface Sealed {
  iv: string;
  data: string;
  tag: string;
}

interface StoreFile {
  format: 'causeway-secrets';
  version: 1;
  kdf: { name: 'scrypt'; N: number; r: number; p: number; salt: string };
  check: Sealed;
  items: Record<string, Sealed>;
}

/** A user-facing failure of the file store (wrong passphrase, unsafe permissions, damaged file). */
export class FileStoreError extends Error {
  override readonly name = 'FileStoreError';
}

function seal(key: Buffer, aad: string, plain: string): Sealed {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return { iv: iv.toString('base64'), data: data.toString('base64'), tag: cipher.getAuthTag().toString('base64') };
}

/** Null when the tag does not verify (wrong key, or the item was altered or moved). */
function open(key: Buffer, aad: string, sealed: Sealed): string | null {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}

function deriveKey(passphrase: string, kdf: StoreFile['kdf']): Buffer {
  return scryptSync(passphrase.normalize('NFC'), Buffer.from(kdf.salt, 'base64'), 32, { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: SCRYPT_MAXMEM });
}

function isSealed(v: unknown): v is Sealed {
  const s = v as Sealed;
  return typeof s === 'object' && s !== null && typeof s.iv === 'string' && typeof s.data === 'string' && typeof s.tag === 'string';
}

function parseStoreFile(text: string, path: string): StoreFile {
  let v: StoreFile;
  try {
    v = JSON.parse(text) as StoreFile;
  } catch {
    throw new FileStoreError(`the secret file ${path} is damaged (not JSON); it was left untouched`);
  }
  const kdf = v?.kdf;
  const ok =
    v?.format === 'causeway-secrets' &&
    v.version === 1 &&
    kdf?.name === 'scrypt' &&
    [kdf.N, kdf.r, kdf.p].every((n) => Number.isInteger(n) && n > 0) &&
    kdf.N <= 1 << 20 &&
    typeof kdf.salt === 'string' &&
    isSealed(v.check) &&
    typeof v.items === 'object' &&
    v.items !== null &&
    Object.values(v.items).every(isSealed);
  if (!ok) throw new FileStoreError(`the secret file ${path} is damaged or of an unknown format; it was left untouched`);
  return v;
}

export class FileSecretStore implements SecretStore {
  readonly backend = 'file' as const;
  readonly persistent = true;
  readonly reason = null;
  private key: Buffer | null = null;

  constructor(
    /** The store file; its folder is created 0700. */
    readonly path: string,
    private readonly passphrase: PassphraseSource,
    /** Why this store was chosen over a keyring, for the notice that announces it. */
    readonly chosenBecause: string | null = null,
  ) {}

  /** The default location: $XDG_DATA_HOME/causeway/secrets/secrets.json (~/.local/share/…). */
  static defaultPath(env: NodeJS.ProcessEnv, home: string): string {
    const xdg = env.XDG_DATA_HOME;
    return join(xdg && xdg.startsWith('/') ? xdg : join(home, '.local', 'share'), 'causeway', 'secrets', 'secrets.json');
  }

  /** Accounts with a sealed item; needs no passphrase. */
  accounts(): string[] {
    const file = this.read();
    return file ? Object.keys(file.items) : [];
  }

  async get(account: string): Promise<string | null> {
    const file = this.read();
    const sealed = file?.items[account];
    if (!file || !sealed) return null;
    const key = await this.unlock(file);
    const plain = open(key, account, sealed);
    if (plain === null) throw new FileStoreError(`the secret "${account}" in ${this.path} was altered and cannot be read`);
    return plain;
  }

  async set(account: string, secret: string): Promise<void> {
    const before = this.read();
    const file = before ?? (await this.create());
    const key = await this.unlock(file);
    // Read again after a possible prompt, so an item another process wrote meanwhile is kept.
    const current = this.read() ?? file;
    current.items[account] = seal(key, account, secret);
    this.write(current);
  }

  async delete(account: string): Promise<void> {
    const file = this.read();
    if (!file || !(account in file.items)) return;
    delete file.items[account];
    if (Object.keys(file.items).length === 0) {
      // Nothing left to protect: remove the file (and the salt with it) rather than keep an empty store.
      rmSync(this.path, { force: true });
      return;
    }
    this.write(file);
  }

  private async create(): Promise<StoreFile> {
    const passphrase = await this.ask(true);
    const kdf = { ...KDF, salt: randomBytes(16).toString('base64') };
    this.key = deriveKey(passphrase, kdf);
    const file: StoreFile = { format: 'causeway-secrets', version: 1, kdf, check: seal(this.key, CHECK_AAD, CHECK_VALUE), items: {} };
    this.write(file);
    return file;
  }

  private async unlock(file: StoreFile): Promise<Buffer> {
    if (this.key && open(this.key, CHECK_AAD, file.check) === CHECK_VALUE) return this.key;
    const key = deriveKey(await this.ask(false), file.kdf);
    if (open(key, CHECK_AAD, file.check) !== CHECK_VALUE) {
      throw new FileStoreError(`wrong passphrase for Causeway's secret file ${this.path}`);
    }
    this.key = key;
    return key;
  }

  private async ask(creating: boolean): Promise<string> {
    const passphrase = await this.passphrase({ creating, path: this.path });
    if (passphrase === null) throw new FileStoreError(`no passphrase was given for Causeway's secret file ${this.path}`);
    if (passphrase === '') throw new FileStoreError('the secret file passphrase cannot be empty');
    return passphrase;
  }

  /** The parsed file, or null when there is none. Refuses a file others could read or replace. */
  private read(): StoreFile | null {
    let text: string;
    try {
      this.checkPrivate(dirname(this.path), 0o700, true);
      this.checkPrivate(this.path, 0o600, false);
      text = readFileSync(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    return parseStoreFile(text, this.path);
  }

  private checkPrivate(path: string, mode: number, dir: boolean): void {
    const st = lstatSync(path);
    const kind = dir ? st.isDirectory() : st.isFile();
    if (!kind) throw new FileStoreError(`${path} is not a ${dir ? 'folder' : 'regular file'}; Causeway will not use it for secrets`);
    if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
      throw new FileStoreError(`${path} belongs to another user; Causeway will not use it for secrets`);
    }
    if ((st.mode & 0o777 & ~mode) !== 0) {
      throw new FileStoreError(`${path} is accessible to other users (mode ${(st.mode & 0o777).toString(8)}); run chmod ${mode.toString(8)} on it`);
    }
  }

  /** Atomic replace: temp file (0600) in the same folder, fsync, rename. */
  private write(file: StoreFile): void {
    const dir = dirname(this.path);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.checkPrivate(dir, 0o700, true);
    const temp = `${this.path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const fd = openSync(temp, 'wx', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(file)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      renameSync(temp, this.path);
    } catch (e) {
      rmSync(temp, { force: true });
      throw e;
    }
  }
}
