import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keepingSecretStore } from '../../test/corpus/support/secrets.js';
import { importOvpnBytes, importOvpnFile } from './importer.js';
import { ProfileStore } from './store.js';

const corpus = new URL('../../test/corpus/', import.meta.url);
const bytes = (f: string) => new Uint8Array(readFileSync(new URL(f, corpus)));

let dir: string;
let store: ProfileStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cw-import-'));
  store = new ProfileStore(join(dir, 'profiles'), keepingSecretStore());
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('importOvpnBytes (profiles that come without their folder)', () => {
  it('imports a self-contained profile under the file name or the given name', async () => {
    const a = await importOvpnBytes(store, bytes('real-world/aws-saml.ovpn'), { fileName: 'aws-saml.ovpn' });
    expect(a.ok).toBe(true);
    expect(a.profile).toMatchObject({ name: 'aws-saml', source: { fileName: 'aws-saml.ovpn', importer: 'ovpn' } });
    const b = await importOvpnBytes(store, bytes('real-world/aws-saml.ovpn'), { name: 'Prod' });
    expect(b.profile!.name).toBe('Prod');
    expect(store.list().profiles.map((p) => p.name)).toEqual(['aws-saml', 'Prod']);
  });

  it('refuses file references, saying how to import instead', async () => {
    const r = await importOvpnBytes(store, bytes('real-world/aws-file-references/client-config.ovpn'), { fileName: 'client-config.ovpn' });
    expect(r.ok).toBe(false);
    expect(r.errors[0]!.message).toMatch(/refers to the file "client1.domain.tld.crt", which cannot be read here: import the profile from its folder/);
    expect(store.list().profiles).toEqual([]);
  });
});

describe('importOvpnFile', () => {
  it('reads references next to the file; a dry run stores nothing', async () => {
    const file = new URL('real-world/aws-file-references/client-config.ovpn', corpus).pathname;
    const dry = await importOvpnFile(store, file, { dryRun: true });
    expect(dry.ok).toBe(true);
    expect(dry.profile).toMatchObject({ id: '', name: 'client-config', hasKey: true, auth: { kind: 'certificate' } });
    expect(store.list().profiles).toEqual([]);
    const real = await importOvpnFile(store, file);
    expect(real.profile!.id).toMatch(/^client-config-[0-9a-f]{6}$/);
  });
});
