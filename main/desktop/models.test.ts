// The Electron-free parts of the shell: which file app:// serves, what the tray shows, when to
// notify, and how desktop settings persist.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ConnectionView, ProfileSummary } from '../../app/ipc/types';
import { isAppUrl, resolveAppFile } from './app-protocol';
import { notificationFor } from './notification-model';
import { defaultSettings, SettingsStore } from './settings-store';
import { LeakDefaults } from '../profiles/leak-defaults';
import { trayModel } from './tray-model';

describe('app:// file resolution', () => {
  const root = '/opt/causeway/dist/renderer';
  it.each([
    ['app://causeway/index.html', `${root}/index.html`],
    ['app://causeway/', `${root}/index.html`],
    ['app://causeway/assets/index-abc.js', `${root}/assets/index-abc.js`],
  ])('serves %s', (url, path) => expect(resolveAppFile(root, url)?.path).toBe(path));

  it.each([
    'app://causeway/../../../etc/passwd',
    'app://causeway/%2e%2e/%2e%2e/etc/passwd',
    'app://causeway/assets/x%00.js',
    'app://other/index.html',
    'file:///etc/passwd',
    'app://causeway/secret.key',
    'not a url',
  ])('refuses %s', (url) => expect(resolveAppFile(root, url)).toBeNull());

  it('trusts only our own origin as an IPC sender', () => {
    expect(isAppUrl('app://causeway/index.html')).toBe(true);
    expect(isAppUrl('https://causeway/index.html')).toBe(false);
    expect(isAppUrl('app://evil/index.html')).toBe(false);
    expect(isAppUrl(undefined)).toBe(false);
  });
});

const profile = (id: string, name: string): ProfileSummary => ({
  id,
  name,
  remote: null,
  authKind: 'certificate',
  isAws: false,
  hasCertificate: true,
  certificateNotAfter: null,
  certificateExpiry: null,
  needsCertificate: false,
});
const connected: ConnectionView = { phase: 'connected', since: '2026-11-22T10:42:00Z', server: null, ipv4: '10.8.0.2', ipv6: null, dnsServers: [], sessionEndsAt: null };
const failed: ConnectionView = { phase: 'failed', code: 'auth-failed', message: 'The server rejected your password.', nextStep: 'Try again.', serverMessage: null };

describe('tray model', () => {
  const profiles = [profile('a', 'Work'), profile('b', 'Lab')];

  it('offers Connect for every profile when nothing runs', () => {
    const m = trayModel(profiles, {});
    expect(m.icon).toBe('disconnected');
    expect(m.items.filter((i) => i.kind === 'profile').map((i) => i.kind === 'profile' && i.label)).toEqual(['Connect Work', 'Connect Lab']);
    expect(m.items.at(-1)).toEqual({ kind: 'quit' });
  });

  it('shows the most important state: connected over connecting over failed', () => {
    expect(trayModel(profiles, { a: failed }).icon).toBe('error');
    expect(trayModel(profiles, { a: failed, b: { phase: 'reconnecting', reason: null } }).icon).toBe('connecting');
    const m = trayModel(profiles, { a: connected, b: { phase: 'waiting-browser', canReopen: true } });
    expect(m.icon).toBe('connected');
    expect(m.tooltip).toBe('Causeway: connected to Work');
    expect(m.items[0]).toMatchObject({ label: 'Disconnect Work', action: 'disconnect', enabled: true });
  });

  it('disables a profile that is disconnecting or lacks a certificate', () => {
    const m = trayModel([profile('a', 'Work'), { ...profile('b', 'Lab'), needsCertificate: true }], { a: { phase: 'disconnecting' } });
    expect(m.items[0]).toMatchObject({ label: 'Disconnecting Work…', enabled: false });
    expect(m.items[1]).toMatchObject({ label: 'Connect Lab', enabled: false });
  });
});

describe('notifications', () => {
  it('notifies on connect, failure, loss and disconnect, and not on progress', () => {
    expect(notificationFor('Work', { phase: 'connecting', step: 'authenticating', server: null }, connected)).toEqual({
      title: 'Connected to Work',
      body: 'Your address in the VPN is 10.8.0.2.',
    });
    expect(notificationFor('Work', { phase: 'connecting', step: 'authenticating', server: null }, failed)?.body).toBe('The server rejected your password. Try again.');
    expect(notificationFor('Work', connected, { phase: 'reconnecting', reason: null })?.title).toBe('Work: connection lost');
    expect(notificationFor('Work', { phase: 'disconnecting' }, { phase: 'idle' })?.title).toBe('Disconnected from Work');
    expect(notificationFor('Work', { phase: 'idle' }, { phase: 'connecting', step: 'resolving', server: null })).toBeNull();
    expect(notificationFor('Work', failed, { phase: 'idle' })).toBeNull();
  });
});

describe('settings store', () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('starts from defaults, persists changes, and survives a damaged file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'causeway-settings-'));
    dirs.push(dir);
    const store = SettingsStore.inDir(dir);
    expect(await store.load()).toEqual(defaultSettings);
    const chosen = { connectOnStartup: 'work', startMinimized: true, notifications: false, newProfileKillSwitch: true, newProfileAllowLan: false };
    await store.set(chosen);
    expect(await SettingsStore.inDir(dir).load()).toEqual(chosen);
    expect(JSON.parse(await readFile(join(dir, 'desktop-settings.json'), 'utf8'))).toMatchObject({ startMinimized: true });

    // The new-profile defaults live where the CLI's import reads them, not in the app's file.
    expect(JSON.parse(await readFile(join(dir, 'desktop-settings.json'), 'utf8'))).not.toHaveProperty('newProfileKillSwitch');
    expect(new LeakDefaults(join(dir, 'new-profile-defaults.json')).read()).toEqual({ killSwitch: true, allowLan: false });

    const leakKept = { newProfileKillSwitch: true, newProfileAllowLan: false };
    await writeFile(join(dir, 'desktop-settings.json'), '{"startMinimized": "yes", "devTools": true');
    expect(await SettingsStore.inDir(dir).load()).toEqual({ ...defaultSettings, ...leakKept });
    await writeFile(join(dir, 'desktop-settings.json'), '{"startMinimized": true, "devTools": true}');
    expect(await SettingsStore.inDir(dir).load()).toEqual({ ...defaultSettings, ...leakKept });
    await writeFile(join(dir, 'new-profile-defaults.json'), '{"killSwitch": "yes"');
    expect(await SettingsStore.inDir(dir).load()).toEqual(defaultSettings);
  });
});
