// The desktop service over a scripted core: calls reach the core, core events become the
// renderer's events with the right words, prompts round-trip, banners are acknowledged; a locked
// key's passphrase is asked through the renderer while the real importer waits.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ConnectionState } from '../../app/connection/state';
import { createDispatcher } from '../../app/ipc/handlers';
import type { EventName, Events } from '../../app/ipc/schema';
import type { Profile } from '../../app/profile';
import type { ManagerEvent, SessionSnapshot } from '../connection/manager';
import { keepingSecretStore } from '../../test/corpus/support/secrets';
import { importOvpnBytes, importOvpnFile } from '../profiles/importer';
import { keyAccount, ProfileStore } from '../profiles/store';
import { MemoryStore } from '../secrets/memory-store';
import { DesktopService, type DesktopCore, type ShellEvent } from './desktop-service';
import { SettingsStore } from './settings-store';

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

function profile(id: string, name: string): Profile {
  return {
    id,
    name,
    remotes: [{ host: 'vpn.example.com', port: 1194, proto: 'udp' }],
    auth: { kind: 'password' },
    isAws: false,
    cert: null,
    hasKey: false,
    killSwitch: false,
    allowLan: true,
  } as unknown as Profile;
}

function scriptedCore() {
  const profiles = new Map<string, Profile>([['work', profile('work', 'Work')]]);
  const listeners = new Set<(e: ManagerEvent) => void>();
  const sessions = new Map<string, SessionSnapshot>();
  const secrets = new MemoryStore();
  // What an earlier run of the app (or the CLI) left in the profile's log file.
  const storedLog = [
    '2026-11-21T09:00:00.000Z causeway info: connecting (attempt 1) to vpn.example.com:1194/udp',
    '2026-11-21T09:00:01.000Z causeway info: state connected',
    '2026-11-21T17:00:00.000Z causeway info: connecting (attempt 1) to vpn.example.com:1194/udp',
  ];
  const core: DesktopCore = {
    profiles: {
      list: () => ({ profiles: [...profiles.values()] }),
      resolve(id) {
        const p = profiles.get(id);
        if (!p) throw new Error(`no profile ${id}`);
        return p;
      },
      rename(id, name) {
        if (name === 'Taken') throw new Error('a profile named "Taken" already exists');
        const p = { ...profiles.get(id)!, name };
        profiles.set(id, p);
        return p;
      },
      async remove(id) {
        const p = profiles.get(id)!;
        profiles.delete(id);
        return p;
      },
      setLeakProtection(id, change) {
        const p = { ...profiles.get(id)!, ...change };
        profiles.set(id, p);
        return p;
      },
      replace(p) {
        profiles.set(p.id, p);
        return p;
      },
    },
    importProfile: vi.fn(async () => ({
      ok: true,
      profile: profile('lab', 'Lab'),
      warnings: [
        { line: 3, directive: 'up', message: 'up was removed: it runs a program on your computer' },
        { line: 9, directive: 'foo', message: 'foo is not a directive Causeway understands; it was left out' },
      ],
      errors: [],
    })),
    importProfileFile: vi.fn(async () => ({ ok: false, profile: null, warnings: [], errors: [] })),
    connections: {
      on(l) {
        listeners.add(l);
        return () => listeners.delete(l);
      },
      get: (id) => sessions.get(id) ?? null,
      connect: vi.fn((id: string) => {
        const s = state(id, { phase: 'resolving' });
        return s;
      }),
      disconnect: vi.fn(async () => {}),
    },
    secrets,
    passwordAccount: (id) => `profile/${id}/password`,
    certs: null,
    readLog: () => storedLog,
  };
  const emit = (e: ManagerEvent) => listeners.forEach((l) => l(e));
  function state(profileId: string, st: ConnectionState, pushed: SessionSnapshot['pushed'] = null): SessionSnapshot {
    const s = { id: `${profileId}.abc`, profileId, profileName: profiles.get(profileId)!.name, state: st, stats: { rxBytes: 0, txBytes: 0, connectedSince: null }, pushed, banner: [], retrying: false } as unknown as SessionSnapshot;
    sessions.set(profileId, s);
    emit({ type: 'state', session: s });
    return s;
  }
  return { core, emit, state, secrets };
}

async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'causeway-desktop-'));
  dirs.push(dir);
  const settings = SettingsStore.inDir(dir);
  await settings.load();
  const opened: string[] = [];
  const service = new DesktopService({ settings, openUrl: async (u) => void opened.push(u), version: '0.1.0', logError: () => {}, now: () => Date.parse('2026-11-22T10:42:00Z') });
  const scripted = scriptedCore();
  service.attach(scripted.core);
  const events: { event: EventName; payload: unknown }[] = [];
  service.setSink(<E extends EventName>(event: E, payload: Events[E]) => void events.push({ event, payload }));
  const shell: ShellEvent[] = [];
  service.observe((e) => shell.push(e));
  const dispatcher = createDispatcher(service.calls, () => {});
  const last = <E extends EventName>(name: E) => events.filter((e) => e.event === name).at(-1)?.payload as Events[E] | undefined;
  return { service, dispatcher, events, last, shell, opened, ...scripted };
}

describe('desktop service', () => {
  let t: Awaited<ReturnType<typeof setup>>;
  beforeEach(async () => {
    t = await setup();
  });

  it('gives a snapshot of profiles, connections and the secret backend', async () => {
    const out = await t.dispatcher.dispatch('getSnapshot', []);
    expect(out).toMatchObject({ ok: true, value: { profiles: [{ id: 'work', name: 'Work', authKind: 'password' }], connections: { work: { phase: 'idle' } }, environment: { secretBackend: 'memory' } } });
  });

  it('splits the import verdict into removed directives and warnings, and pushes a new snapshot', async () => {
    const out = await t.dispatcher.dispatch('importProfile', [new Uint8Array([1]), 'Lab']);
    expect(out).toMatchObject({
      ok: true,
      value: {
        ok: true,
        stripped: [{ directive: 'up', line: 3, reason: 'it runs a program on your computer' }],
        warnings: ['Line 9: foo is not a directive Causeway understands; it was left out'],
      },
    });
    expect(t.last('snapshot')).toBeDefined();
  });

  it('stores validated single sign-on settings, forgets the old refresh token, and removes them', async () => {
    await t.secrets.set('profile/work/oidc-refresh-token', 'old-token');
    const out = await t.dispatcher.dispatch('setProfileOidc', ['work', { issuer: 'http://127.0.0.1:8080/realms/lab', clientId: 'causeway', scopes: 'email, profile', usernameClaim: '', token: 'id_token' }]);
    const stored = { issuer: 'http://127.0.0.1:8080/realms/lab', clientId: 'causeway', scopes: ['openid', 'email', 'profile'], usernameClaim: 'sub', token: 'id_token' };
    expect(out).toMatchObject({ ok: true, value: { id: 'work', oidc: stored } });
    expect(t.core.profiles.resolve('work').oidc).toEqual(stored);
    expect(await t.secrets.get('profile/work/oidc-refresh-token')).toBeNull();
    expect(t.last('snapshot')).toBeDefined();
    expect(await t.dispatcher.dispatch('setProfileOidc', ['work', null])).toMatchObject({ ok: true, value: { oidc: null } });
    expect(t.core.profiles.resolve('work').oidc).toBeNull();
  });

  it('refuses an issuer that is not https, in words for the form', async () => {
    const out = await t.dispatcher.dispatch('setProfileOidc', ['work', { issuer: 'http://login.example.com', clientId: 'causeway', scopes: '', usernameClaim: '', token: 'id_token' }]);
    expect(out).toEqual({ ok: false, error: { code: 'invalid-oidc', message: 'The OIDC issuer must be an https URL (http is allowed only on this computer).' } });
    const blank = await t.dispatcher.dispatch('setProfileOidc', ['work', { issuer: '  ', clientId: 'causeway', scopes: '', usernameClaim: '', token: 'id_token' }]);
    expect(blank).toEqual({ ok: false, error: { code: 'invalid-oidc', message: 'OIDC needs an issuer URL.' } });
    expect(t.core.profiles.resolve('work').oidc).toBeUndefined();
  });

  it('leaves single sign-on alone while the profile is connected', async () => {
    t.state('work', { phase: 'resolving' });
    const out = await t.dispatcher.dispatch('setProfileOidc', ['work', null]);
    expect(out).toMatchObject({ ok: false, error: { code: 'connected' } });
  });

  it('follows a connection in words the renderer shows, and tells the shell', async () => {
    await t.dispatcher.dispatch('connect', ['work']);
    expect(t.core.connections.connect).toHaveBeenCalledWith('work');
    expect(t.last('connection')).toEqual({ profileId: 'work', view: { phase: 'connecting', step: 'resolving', server: null } });
    const since = Date.parse('2026-11-22T10:42:00Z');
    const pushed = { ipv4: { address: '10.8.0.6', prefix: 24, gateway: null }, ipv6: null, routes: [], routesIpv6: [], redirectGateway: false, redirectGatewayIpv6: false, blockLocal: false, blockIpv6: false, dns: { servers: ['10.8.0.1'], searchDomains: [], routeDomains: [] }, mtu: 1500, device: 'cw0', peerId: 1, cipher: 'AES-256-GCM' as const, sessionTimeoutSec: 3600 };
    t.state('work', { phase: 'connected', remote: { host: 'vpn.example.com', address: '192.0.2.1', port: 1194, proto: 'udp' }, since }, pushed);
    expect(t.last('connection')!.view).toEqual({
      phase: 'connected',
      since: '2026-11-22T10:42:00.000Z',
      server: 'vpn.example.com',
      ipv4: '10.8.0.6',
      ipv6: null,
      dnsServers: ['10.8.0.1'],
      sessionEndsAt: '2026-11-22T11:42:00.000Z',
    });
    expect(t.shell.filter((e) => e.type === 'connection').at(-1)).toMatchObject({ previous: { phase: 'connecting' }, view: { phase: 'connected' } });
  });

  it('explains a failure with a next step meant for the desktop app', () => {
    t.state('work', { phase: 'resolving' });
    t.state('work', { phase: 'failed', reason: 'client-certificate-rejected', detail: null });
    expect(t.last('connection')!.view).toEqual({
      phase: 'failed',
      code: 'client-certificate-rejected',
      message: 'The server rejected your certificate.',
      nextStep: 'Your certificate may be expired or revoked. Import a new one under Certificates.',
      serverMessage: null,
    });
    t.state('work', { phase: 'resolving' });
    t.state('work', { phase: 'failed', reason: 'bad-credentials', detail: 'authentication failed: Your account is not allowed to use this VPN.' });
    expect(t.last('connection')!.view).toMatchObject({ serverMessage: 'Your account is not allowed to use this VPN.' });
  });

  it('asks for a password through the renderer and hands the answer to the core', async () => {
    t.state('work', { phase: 'authenticating', waiting: 'credentials', remote: null });
    const abort = new AbortController();
    const answer = t.service.prompts.ask(
      { kind: 'credentials', id: 'q1', sessionId: 'work.abc', profileId: 'work', profileName: 'Work', username: 'alice', askPassword: true, challenge: null, canRemember: true, retryReason: null, timeoutMs: 1000 },
      abort.signal,
    );
    expect(t.last('prompt')).toMatchObject({ id: 'q1', kind: 'password', username: 'alice', canRemember: true });
    expect(t.last('connection')!.view).toEqual({ phase: 'waiting-input', promptId: 'q1', kind: 'password' });
    const wrong = await t.dispatcher.dispatch('answerPrompt', ['q1', { kind: 'response', response: '123' }]);
    expect(wrong).toMatchObject({ ok: false, error: { code: 'wrong-answer' } });
    await t.dispatcher.dispatch('answerPrompt', ['q1', { kind: 'password', username: 'alice', password: 'pw', response: null, remember: true }]);
    await expect(answer).resolves.toEqual({ kind: 'credentials', username: 'alice', password: 'pw', response: null, remember: true });
    expect(t.last('promptClosed')).toEqual({ id: 'q1' });
  });

  it('asks only for the MFA code when the password is saved', async () => {
    const answer = t.service.prompts.ask(
      { kind: 'credentials', id: 'q3', sessionId: 's', profileId: 'work', profileName: 'Work', username: 'alice', askPassword: false, challenge: { text: 'Enter your authenticator code', echo: false }, canRemember: true, retryReason: null, timeoutMs: 1000 },
      new AbortController().signal,
    );
    expect(t.last('prompt')).toMatchObject({ id: 'q3', kind: 'mfa', challenge: 'Enter your authenticator code', echo: false, canRemember: false });
    await t.dispatcher.dispatch('answerPrompt', ['q3', { kind: 'response', response: '123456' }]);
    await expect(answer).resolves.toEqual({ kind: 'credentials', username: 'alice', password: '', response: '123456', remember: false });
  });

  it('asks for password and code together for a static challenge', async () => {
    const answer = t.service.prompts.ask(
      { kind: 'credentials', id: 'q4', sessionId: 's', profileId: 'work', profileName: 'Work', username: null, askPassword: true, challenge: { text: 'Code', echo: true }, canRemember: false, retryReason: null, timeoutMs: 1000 },
      new AbortController().signal,
    );
    expect(await t.dispatcher.dispatch('answerPrompt', ['q4', { kind: 'password', username: 'a', password: 'p', response: null, remember: false }])).toMatchObject({
      ok: false,
      error: { code: 'missing-code' },
    });
    await t.dispatcher.dispatch('answerPrompt', ['q4', { kind: 'password', username: 'a', password: 'p', response: '42', remember: true }]);
    // "remember" is only honoured where it was offered.
    await expect(answer).resolves.toEqual({ kind: 'credentials', username: 'a', password: 'p', response: '42', remember: false });
  });

  it("asks for the proxy's username and password through the same dialog, naming the proxy", async () => {
    t.state('work', { phase: 'authenticating', waiting: 'credentials', remote: null });
    const answer = t.service.prompts.ask(
      { kind: 'proxy-password', id: 'q5', sessionId: 's', profileId: 'work', profileName: 'Work', proxy: '192.0.2.9:1080', username: null, canRemember: true, retryReason: null, timeoutMs: 1000 },
      new AbortController().signal,
    );
    expect(t.last('prompt')).toMatchObject({ id: 'q5', kind: 'proxy-password', challenge: 'The proxy 192.0.2.9:1080 needs a username and password.', username: null, canRemember: true });
    expect(t.last('connection')!.view).toEqual({ phase: 'waiting-input', promptId: 'q5', kind: 'proxy-password' });
    expect(await t.dispatcher.dispatch('answerPrompt', ['q5', { kind: 'response', response: 'x' }])).toMatchObject({ ok: false, error: { code: 'wrong-answer' } });
    await t.dispatcher.dispatch('answerPrompt', ['q5', { kind: 'password', username: 'pu', password: 'pp', response: null, remember: true }]);
    await expect(answer).resolves.toEqual({ kind: 'proxy-password', username: 'pu', password: 'pp', remember: true });
  });

  it('closes a prompt the session gave up on', async () => {
    const abort = new AbortController();
    const answer = t.service.prompts.ask({ kind: 'challenge', id: 'q2', sessionId: 's', profileId: 'work', profileName: 'Work', text: 'PIN?', echo: true, timeoutMs: 10 }, abort.signal);
    abort.abort();
    await expect(answer).resolves.toBeNull();
    expect(t.last('promptClosed')).toEqual({ id: 'q2' });
    expect(await t.dispatcher.dispatch('answerPrompt', ['q2', { kind: 'response', response: '1' }])).toMatchObject({ ok: false, error: { code: 'prompt-gone' } });
  });

  it('shows server banners and session-timeout notices until acknowledged', async () => {
    t.state('work', { phase: 'resolving' });
    t.emit({ type: 'banner', sessionId: 'work.abc', text: 'Authorized use only.' });
    t.emit({ type: 'banner', sessionId: 'work.abc', text: 'Activity is monitored.' });
    t.emit({ type: 'notice', sessionId: 'work.abc', text: 'The server will end this session in about 5 minutes.' });
    t.emit({ type: 'notice', sessionId: 'work.abc', text: 'Reconnecting without asking, as this profile allows.' });
    const banners = t.events.filter((e) => e.event === 'banner').map((e) => e.payload as Events['banner']);
    // A two-line server banner is one message (sent again as it grows), then the timeout notice.
    expect(banners.map((b) => [b.id, b.kind, b.profileName, b.text])).toEqual([
      ['banner-1', 'server-message', 'Work', 'Authorized use only.'],
      ['banner-1', 'server-message', 'Work', 'Authorized use only.\nActivity is monitored.'],
      ['banner-2', 'session-ending', 'Work', 'The server will end this session in about 5 minutes.'],
    ]);
    await t.dispatcher.dispatch('ackBanner', [banners[0]!.id]);
    expect(t.last('bannerCleared')).toEqual({ id: banners[0]!.id });
    expect((await t.service.calls.getSnapshot()).banners.map((b) => b.kind)).toEqual(['session-ending']);
    // The next connection's banner is a new message.
    t.state('work', { phase: 'failed', reason: 'server-halted', detail: null });
    t.state('work', { phase: 'resolving' });
    t.emit({ type: 'banner', sessionId: 'work.abc', text: 'Authorized use only.' });
    expect(t.last('banner')).toMatchObject({ id: 'banner-3', text: 'Authorized use only.' });
  });

  it('groups log lines by connection attempt, earlier runs first', async () => {
    t.state('work', { phase: 'resolving' });
    t.emit({ type: 'log', sessionId: 'work.abc', line: '2026-11-22T10:42:01.000Z causeway info: connecting' });
    t.state('work', { phase: 'failed', reason: 'server-unreachable', detail: null });
    t.state('work', { phase: 'resolving' });
    t.emit({ type: 'log', sessionId: 'work.abc', line: '2026-11-22T10:43:01.000Z helper warn: retrying' });
    const lines = await t.service.calls.getLogs('work');
    expect(lines.map((l) => [l.sessionId.replace(/^work\.abc-\d+$/, 'live'), l.level, l.text])).toEqual([
      ['earlier-0', 'info', 'connecting (attempt 1) to vpn.example.com:1194/udp'],
      ['earlier-0', 'info', 'state connected'],
      ['earlier-1', 'info', 'connecting (attempt 1) to vpn.example.com:1194/udp'],
      ['live', 'info', 'connecting'],
      ['live', 'warn', 'retrying'],
    ]);
    expect(lines[3]!.sessionId).not.toBe(lines[4]!.sessionId);
  });

  it('reopens the login page it opened for a profile', async () => {
    t.state('work', { phase: 'resolving' });
    await t.service.openLoginUrl('https://idp.example.com/login?state=abc');
    t.state('work', { phase: 'authenticating', waiting: 'browser', remote: null });
    expect(t.last('connection')!.view).toEqual({ phase: 'waiting-browser', canReopen: true });
    await t.dispatcher.dispatch('reopenLogin', ['work']);
    expect(t.opened).toEqual(['https://idp.example.com/login?state=abc', 'https://idp.example.com/login?state=abc']);
  });

  it('refuses to remove a connected profile, renames with the core’s reason, and stores settings', async () => {
    t.state('work', { phase: 'resolving' });
    expect(await t.dispatcher.dispatch('removeProfile', ['work'])).toMatchObject({ ok: false, error: { message: 'Disconnect “Work” before removing it.' } });
    expect(await t.dispatcher.dispatch('renameProfile', ['work', 'Taken'])).toMatchObject({ ok: false, error: { message: 'A profile named "Taken" already exists' } });
    const leak = { newProfileKillSwitch: true, newProfileAllowLan: false };
    expect(await t.dispatcher.dispatch('setSettings', [{ connectOnStartup: 'nope', startMinimized: false, notifications: true, ...leak }])).toMatchObject({
      ok: false,
      error: { code: 'no-such-profile' },
    });
    await t.dispatcher.dispatch('setSettings', [{ connectOnStartup: 'work', startMinimized: true, notifications: true, ...leak }]);
    expect(t.last('snapshot')!.settings).toEqual({ connectOnStartup: 'work', startMinimized: true, notifications: true, ...leak });
  });

  it('shows and changes a profile’s kill switch and LAN access, refusing other values', async () => {
    expect(await t.service.calls.getProfileDetails('work')).toMatchObject({ killSwitch: false, allowLan: true });
    expect(await t.dispatcher.dispatch('setProfileLeakProtection', ['work', { killSwitch: true, allowLan: false }])).toMatchObject({
      ok: true,
      value: { id: 'work', killSwitch: true, allowLan: false },
    });
    expect(await t.service.calls.getProfileDetails('work')).toMatchObject({ killSwitch: true, allowLan: false });
    expect(await t.dispatcher.dispatch('setProfileLeakProtection', ['work', { killSwitch: 'on', allowLan: false }])).toMatchObject({
      ok: false,
      error: { code: 'invalid-request' },
    });
    expect(await t.dispatcher.dispatch('setProfileLeakProtection', ['gone', { killSwitch: true, allowLan: true }])).toMatchObject({
      ok: false,
      error: { code: 'no-such-profile' },
    });
  });

  it('forgets a saved password', async () => {
    await t.secrets.set('profile/work/password', 'pw');
    expect(await t.service.calls.getProfileDetails('work')).toMatchObject({ passwordSaved: true });
    await t.service.calls.forgetPassword('work');
    expect(await t.service.calls.getProfileDetails('work')).toMatchObject({ passwordSaved: false });
  });

  describe('a profile whose key is locked', () => {
    // From the corpus: an inline PKCS#8 "ENCRYPTED PRIVATE KEY", passphrase "corpus".
    const LOCKED_PATH = join(import.meta.dirname, '../../test/corpus/real-world/passphrase-key-prompted.ovpn');
    const LOCKED = readFileSync(LOCKED_PATH);
    const PASSPHRASE = 'corpus';

    /** The service over the real importer, storing into a real profile store. */
    async function realImport() {
      const dir = await mkdtemp(join(tmpdir(), 'causeway-desktop-import-'));
      dirs.push(dir);
      const secrets = keepingSecretStore();
      const store = new ProfileStore(dir, secrets);
      t.core.importProfile = (bytes, name, askPassphrase) => importOvpnBytes(store, bytes, { name, askPassphrase });
      const verdict = t.dispatcher.dispatch('importProfile', [new Uint8Array(LOCKED), 'Locked']);
      return { verdict, store, secrets };
    }
    const opened = () => t.events.filter((e) => e.event === 'secretPrompt').map((e) => e.payload as Events['secretPrompt']);
    const settled = async () => {
      for (let i = 0; i < 50 && t.service.secretPrompts.pending().length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    };

    it('asks for the passphrase, says so when it is wrong and asks again, then stores the unlocked key', async () => {
      const { verdict, store, secrets } = await realImport();
      await settled();
      const first = opened()[0]!;
      expect(first).toEqual({ id: expect.any(String), kind: 'key-passphrase', subject: 'Locked', retry: false });
      expect(await t.dispatcher.dispatch('getSnapshot', [])).toMatchObject({ value: { secretPrompts: [first] } });

      expect(await t.dispatcher.dispatch('answerSecretPrompt', [first.id, 'not the passphrase'])).toEqual({ ok: true, value: undefined });
      expect(t.last('secretPromptClosed')).toEqual({ id: first.id });
      await settled();
      const second = opened()[1]!;
      expect(second).toMatchObject({ kind: 'key-passphrase', retry: true });
      expect(second.id).not.toBe(first.id);
      // The first question is over; answering it again is refused, not applied to the second.
      expect(await t.dispatcher.dispatch('answerSecretPrompt', [first.id, PASSPHRASE])).toMatchObject({ ok: false, error: { code: 'prompt-gone' } });

      await t.dispatcher.dispatch('answerSecretPrompt', [second.id, PASSPHRASE]);
      expect(await verdict).toMatchObject({ ok: true, value: { ok: true, profile: { name: 'Locked', authKind: 'certificate+password' } } });
      const stored = store.list().profiles[0]!;
      expect(stored.hasKey).toBe(true);
      expect(secrets.entries.get(keyAccount(stored.id))).toMatch(/^-----BEGIN PRIVATE KEY-----/);
      expect(t.service.secretPrompts.pending()).toEqual([]);
      // Neither answer went anywhere the renderer or a log could see it.
      const everything = JSON.stringify([t.events, await t.dispatcher.dispatch('getSnapshot', []), readFileSync(join(store.dir, `${stored.id}.json`), 'utf8')]);
      expect(everything).not.toContain(PASSPHRASE);
      expect(everything).not.toContain('not the passphrase');
    });

    it('gives up after three wrong passphrases, with the reason and nothing stored', async () => {
      const { verdict, store, secrets } = await realImport();
      for (let i = 0; i < 3; i++) {
        await settled();
        const [open] = t.service.secretPrompts.pending();
        expect(open).toMatchObject({ retry: i > 0 });
        await t.dispatcher.dispatch('answerSecretPrompt', [open!.id, `wrong ${i}`]);
      }
      const out = await verdict;
      expect(out).toMatchObject({ ok: true, value: { ok: false, cancelled: false, errors: [{ message: expect.stringMatching(/passphrase/) }] } });
      expect(JSON.stringify(out)).not.toMatch(/wrong \d/);
      expect(store.list().profiles).toEqual([]);
      expect(secrets.entries.size).toBe(0);
      expect(opened()).toHaveLength(3);
    });

    it('asks the same way for a file from main’s File menu, naming the file', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'causeway-desktop-import-'));
      dirs.push(dir);
      const store = new ProfileStore(dir, keepingSecretStore());
      t.core.importProfileFile = (path, askPassphrase) => importOvpnFile(store, path, { askPassphrase });
      const verdict = t.service.importFile(LOCKED_PATH);
      await settled();
      expect(opened()[0]).toMatchObject({ kind: 'key-passphrase', subject: 'passphrase-key-prompted.ovpn', retry: false });
      await t.dispatcher.dispatch('answerSecretPrompt', [opened()[0]!.id, PASSPHRASE]);
      expect(await verdict).toMatchObject({ ok: true, profile: { name: 'passphrase-key-prompted' } });
    });

    it('imports nothing when the user cancels', async () => {
      const { verdict, store, secrets } = await realImport();
      await settled();
      await t.dispatcher.dispatch('cancelSecretPrompt', [opened()[0]!.id]);
      expect(await verdict).toMatchObject({ ok: true, value: { ok: false, cancelled: true, errors: [{ message: 'No passphrase was given for the encrypted key; nothing was imported' }] } });
      expect(store.list().profiles).toEqual([]);
      expect(secrets.entries.size).toBe(0);
      expect(t.service.secretPrompts.pending()).toEqual([]);
      expect(t.last('secretPromptClosed')).toEqual({ id: opened()[0]!.id });
    });
  });
});
