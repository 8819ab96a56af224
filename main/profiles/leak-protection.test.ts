// The kill switch and LAN access as profile settings: what old profiles read as, what new ones
// get from the user's defaults, and how they are changed.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkProfile, NO_SECRETS } from '../../app/profile/index.js';
import { keepingSecretStore } from '../../test/corpus/support/secrets.js';
import { importOvpnBytes } from './importer.js';
import { LeakDefaults } from './leak-defaults.js';
import { ProfileStore, ProfileStoreError } from './store.js';

const pki = (f: string) => readFileSync(new URL(`../../test/corpus/pki/${f}`, import.meta.url), 'utf8');
const text = `client\nremote vpn.example.com 1194\nauth-user-pass\n<ca>\n${pki('ca.crt')}</ca>\n`;
const src = { fileName: 'x.ovpn', importer: 'ovpn' as const };

let config: string;
let defaults: LeakDefaults;
let store: ProfileStore;
beforeEach(() => {
  config = mkdtempSync(join(tmpdir(), 'cw-leak-'));
  defaults = LeakDefaults.inDir(config);
  store = new ProfileStore(join(config, 'profiles'), keepingSecretStore(), defaults);
});
afterEach(() => rmSync(config, { recursive: true, force: true }));

describe('leak protection of stored profiles', () => {
  it('gives a new profile the built-in defaults (kill switch off, LAN allowed) until the user chose others', async () => {
    const p = await store.add(checkProfile(text).settings!, NO_SECRETS, { name: 'A', source: src });
    expect({ killSwitch: p.killSwitch, allowLan: p.allowLan }).toEqual({ killSwitch: false, allowLan: true });
    expect(JSON.parse(readFileSync(join(config, 'profiles', `${p.id}.json`), 'utf8'))).toMatchObject({ killSwitch: false, allowLan: true });
  });

  it('gives profiles imported after a change of the defaults the new defaults, and leaves older ones alone', async () => {
    const before = await importOvpnBytes(store, new TextEncoder().encode(text), { name: 'Before' });
    defaults.write({ killSwitch: true, allowLan: false });
    const after = await importOvpnBytes(store, new TextEncoder().encode(text), { name: 'After' });
    const dry = await importOvpnBytes(store, new TextEncoder().encode(text), { name: 'Dry', dryRun: true });
    expect(after.profile).toMatchObject({ killSwitch: true, allowLan: false });
    expect(dry.profile).toMatchObject({ killSwitch: true, allowLan: false });
    expect(store.resolve('Before')).toMatchObject({ killSwitch: false, allowLan: true });
    expect(store.resolve(before.profile!.id).id).toBe(before.profile!.id);
  });

  it('reads a profile stored before these settings existed with the defaults, whatever the new-profile defaults are', async () => {
    const p = await store.add(checkProfile(text).settings!, NO_SECRETS, { name: 'Old', source: src });
    const file = join(config, 'profiles', `${p.id}.json`);
    const { killSwitch: _k, allowLan: _l, ...older } = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify(older));
    defaults.write({ killSwitch: true, allowLan: false });
    expect(store.list().damaged).toEqual([]);
    expect(store.resolve('Old')).toMatchObject({ killSwitch: false, allowLan: true });
    // Changing one setting writes both, so the file no longer depends on defaults.
    store.setLeakProtection('Old', { allowLan: false });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ killSwitch: false, allowLan: false });
  });

  it('reports a profile whose setting is not a boolean as damaged, naming the field', async () => {
    const p = await store.add(checkProfile(text).settings!, NO_SECRETS, { name: 'Odd', source: src });
    const file = join(config, 'profiles', `${p.id}.json`);
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), killSwitch: 'yes' }));
    expect(store.list().damaged).toEqual([{ file, reason: 'its killSwitch is neither true nor false' }]);
  });

  it('changes one setting at a time and refuses an unknown profile', async () => {
    await store.add(checkProfile(text).settings!, NO_SECRETS, { name: 'VPN', source: src });
    expect(store.setLeakProtection('vpn', { killSwitch: true })).toMatchObject({ killSwitch: true, allowLan: true });
    expect(store.setLeakProtection('VPN', { allowLan: false })).toMatchObject({ killSwitch: true, allowLan: false });
    expect(store.resolve('VPN')).toMatchObject({ killSwitch: true, allowLan: false });
    expect(() => store.setLeakProtection('nope', { killSwitch: true })).toThrow(ProfileStoreError);
  });

  it('reads a missing, damaged or wrongly typed defaults file as the built-in defaults', () => {
    expect(defaults.read()).toEqual({ killSwitch: false, allowLan: true });
    writeFileSync(defaults.file, '{"killSwitch": tru');
    expect(defaults.read()).toEqual({ killSwitch: false, allowLan: true });
    writeFileSync(defaults.file, '{"killSwitch": "on", "allowLan": false}');
    expect(defaults.read()).toEqual({ killSwitch: false, allowLan: false });
    expect(defaults.write({ killSwitch: true, allowLan: true })).toEqual({ killSwitch: true, allowLan: true });
    expect(new LeakDefaults(defaults.file).read()).toEqual({ killSwitch: true, allowLan: true });
  });
});
