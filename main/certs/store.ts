// CertStore: the user's client certificates. Each lives as <dir>/<id>.json (certificate, chain,
// details — nothing secret) with its private key in the SecretStore (account `cert/<id>/key`).
// A certificate can be attached to a profile that has none (AWS mutual-auth profiles are often
// exported without the client certificate): the profile gets the certificate and its own copy
// of the key (`profile/<id>/key`), so removing the certificate later does not break the profile.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Profile } from '../../app/profile/model.js';
import type { SecretStore } from '../secrets/secret-store.js';
import {
  CertificateError,
  expiryWarning,
  issuedByAny,
  readPemPair,
  readPkcs12,
  type CertificateBundle,
  type CertificateDetails,
} from './certificate.js';

export interface StoredCertificate {
  id: string;
  name: string;
  importedAt: string;
  cert: string;
  chain: string | null;
  details: CertificateDetails;
  /** Profiles this certificate was attached to (ids). */
  attachedTo: string[];
}

/** The part of ProfileStore attaching needs. */
export interface ProfileWriter {
  resolve(idOrName: string): Profile;
  replace(profile: Profile): Profile;
}

export const certKeyAccount = (id: string) => `cert/${id}/key`;
const profileKeyAccount = (id: string) => `profile/${id}/key`;
const ID = /^[a-z0-9][a-z0-9-]{0,63}$/;

function slug(text: string): string {
  const s = text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40);
  return s || 'certificate';
}

function commonName(subject: string): string | null {
  return /(?:^|, )CN=([^,]+)/.exec(subject)?.[1] ?? null;
}

export class CertStore {
  constructor(
    readonly dir: string,
    private readonly secrets: SecretStore,
    private readonly profiles: ProfileWriter,
  ) {}

  list(): StoredCertificate[] {
    let files: string[];
    try {
      files = readdirSync(this.dir).filter((f) => f.endsWith('.json') && !f.startsWith('.'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const out: StoredCertificate[] = [];
    for (const f of files) {
      try {
        out.push(JSON.parse(readFileSync(join(this.dir, f), 'utf8')) as StoredCertificate);
      } catch {
        // A damaged record is skipped, never overwritten.
      }
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** By id, or by a name only one certificate has. */
  get(idOrName: string): StoredCertificate {
    const all = this.list();
    const found = all.find((c) => c.id === idOrName) ?? all.filter((c) => c.name === idOrName);
    if (!Array.isArray(found)) return found;
    if (found.length === 1) return found[0]!;
    if (found.length > 1) throw new CertificateError(`${found.length} certificates are named "${idOrName}"; use the id`);
    throw new CertificateError(`no certificate has the id or name "${idOrName}" (see causeway cert list)`);
  }

  async importPkcs12(bytes: Uint8Array, password: string, name?: string): Promise<StoredCertificate> {
    return this.add(readPkcs12(bytes, password), name);
  }

  async importPem(certText: string, keyText: string, options: { passphrase?: string; name?: string } = {}): Promise<StoredCertificate> {
    return this.add(readPemPair(certText, keyText, options.passphrase), options.name);
  }

  /**
   * Gives a profile without a client certificate this one. Returns warnings the user should see
   * (not issued by the profile's CA, expiring soon) — attaching still happens.
   */
  async attach(certIdOrName: string, profileIdOrName: string): Promise<{ profile: Profile; warnings: string[] }> {
    const stored = this.get(certIdOrName);
    const profile = this.profiles.resolve(profileIdOrName);
    if (profile.cert !== null) {
      throw new CertificateError(`profile "${profile.name}" already has a client certificate`);
    }
    this.requirePersistentSecrets();
    const key = await this.secrets.get(certKeyAccount(stored.id));
    if (key === null) throw new CertificateError(`the private key of certificate "${stored.name}" is missing from the keyring; import it again`);
    const warnings: string[] = [];
    if (!issuedByAny(stored.cert, profile.ca)) {
      warnings.push(`"${stored.name}" was not issued by the CA of profile "${profile.name}"; the server will probably reject it`);
    }
    const expiry = expiryWarning(stored.details);
    if (expiry) warnings.push(expiry);
    await this.secrets.set(profileKeyAccount(profile.id), key);
    const kind = profile.auth.kind === 'password' ? 'certificate+password' : profile.auth.kind === 'none' ? 'certificate' : profile.auth.kind;
    const updated: Profile = {
      ...profile,
      cert: stored.cert,
      extraCerts: [profile.extraCerts, stored.chain].filter(Boolean).join('') || null,
      hasKey: true,
      auth: { ...profile.auth, kind },
    };
    try {
      this.profiles.replace(updated);
    } catch (e) {
      await this.secrets.delete(profileKeyAccount(profile.id)).catch(() => undefined);
      throw e;
    }
    this.write({ ...stored, attachedTo: [...new Set([...stored.attachedTo, profile.id])] });
    return { profile: updated, warnings };
  }

  /** Forgets a certificate and its key. Profiles it was attached to keep their own copy. */
  async remove(idOrName: string): Promise<StoredCertificate> {
    const stored = this.get(idOrName);
    rmSync(join(this.dir, `${stored.id}.json`));
    await this.secrets.delete(certKeyAccount(stored.id));
    return stored;
  }

  private requirePersistentSecrets(): void {
    if (!this.secrets.persistent) {
      throw new CertificateError(
        `private keys are kept only in a secret store, and none is available: ${this.secrets.reason ?? 'secrets would be lost when this program exits'}`,
      );
    }
  }

  private async add(bundle: CertificateBundle, name?: string): Promise<StoredCertificate> {
    this.requirePersistentSecrets();
    const duplicate = this.list().find((c) => c.details.fingerprint256 === bundle.details.fingerprint256);
    if (duplicate) throw new CertificateError(`this certificate is already imported as "${duplicate.name}" (id ${duplicate.id})`);
    const displayName = (name ?? commonName(bundle.details.subject) ?? 'certificate').trim();
    if (!displayName) throw new CertificateError('the certificate name must not be empty');
    const id = `${slug(displayName)}-${randomBytes(3).toString('hex')}`;
    if (!ID.test(id)) throw new CertificateError(`cannot derive an id from "${displayName}"`);
    const stored: StoredCertificate = {
      id,
      name: displayName,
      importedAt: new Date().toISOString(),
      cert: bundle.cert,
      chain: bundle.chain,
      details: bundle.details,
      attachedTo: [],
    };
    await this.secrets.set(certKeyAccount(id), bundle.key);
    try {
      this.write(stored);
    } catch (e) {
      await this.secrets.delete(certKeyAccount(id)).catch(() => undefined);
      throw e;
    }
    return stored;
  }

  /** Write-then-rename, so a crash never leaves half a record. */
  private write(stored: StoredCertificate): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const temp = join(this.dir, `.${stored.id}.${randomBytes(4).toString('hex')}.tmp`);
    writeFileSync(temp, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600, flush: true });
    renameSync(temp, join(this.dir, `${stored.id}.json`));
  }
}
