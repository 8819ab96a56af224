// The kill switch and LAN access as a user sets them with the bundled CLI (bin/causeway.cjs):
// `causeway set`, `causeway show`, the defaults new profiles get from the app's Settings (the
// same SettingsStore the app uses), profiles stored before the settings existed, and what
// `causeway connect [--kill-switch]` sends to the helper (the scripted stand-in, which logs the
// two switches; the lab test cli-kill-switch.test.ts shows the real helper's firewall).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createPki, type Pki } from '../peers/lab/pki.js';
import { SettingsStore } from '../../main/desktop/settings-store.js';
import { runCli } from '../support/run-cli.js';

const repo = resolve(import.meta.dirname, '..', '..');
const cliPath = join(repo, 'bin', 'causeway.cjs');
const fakeHelper = join(repo, 'main', 'helper', 'testing', 'fake-helper.mjs');
const results = join(repo, 'test-results', 'cli-leak-settings');

let home: string;
let pki: Pki;
const config = () => join(home, '.config', 'Causeway');
const helperLog = () => join(home, '.local', 'state', 'causeway', 'logs', '_helper.log');

function env(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: home, XDG_RUNTIME_DIR: join(home, 'run'), CAUSEWAY_SECRET_STORE: 'memory', CAUSEWAY_HELPER: fakeHelper };
}

function cli(args: string[], input = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runCli(args, { env: env(), input, timeoutMs: 30_000, log: join(results, 'outputs.log') });
}

async function show(profile: string): Promise<{ id: string; killSwitch: boolean; allowLan: boolean }> {
  const r = await cli(['show', profile, '--json']);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as { id: string; killSwitch: boolean; allowLan: boolean };
}

async function importProfile(name: string): Promise<void> {
  const file = join(home, `${name}.ovpn`);
  writeFileSync(file, `client\nremote vpn.example.test 1194 udp\nremote-cert-tls server\nauth-user-pass\n<ca>\n${pki.ca}</ca>\n`);
  const r = await cli(['import', file, '--name', name]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
}

/** `causeway connect` until connected, then SIGTERM; returns the helper log lines it added. */
async function connectOnce(args: string[]): Promise<string[]> {
  const before = existsSync(helperLog()) ? readFileSync(helperLog(), 'utf8').split('\n').length - 1 : 0;
  const child = spawn(process.execPath, [cliPath, 'connect', ...args, '--json-events'], { env: env(), stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stdin.end('alice\nright\n');
  const exited = new Promise<number | null>((r) => child.on('close', r));
  await expect.poll(() => out.includes('"phase":"connected"'), { timeout: 15_000 }).toBe(true);
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  appendFileSync(join(results, 'outputs.log'), `$ causeway connect ${args.join(' ')} --json-events\n${out}`);
  const added = readFileSync(helperLog(), 'utf8').split('\n').slice(before);
  // "<time> helper log: fake-helper: connect killSwitch=… allowLan=…"
  return added.flatMap((l) => /fake-helper: connect (killSwitch=\S+ allowLan=\S+)$/.exec(l)?.[1] ?? []);
}

beforeAll(async () => {
  rmSync(results, { recursive: true, force: true });
  mkdirSync(results, { recursive: true });
  home = mkdtempSync(join(tmpdir(), 'cw-cli-leak-'));
  mkdirSync(join(home, 'run'), { mode: 0o700 });
  pki = await createPki(join(home, 'pki'));
  await importProfile('office');
}, 60_000);

afterAll(() => {
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('causeway set / show: kill switch and LAN access', () => {
  it('shows a new profile with the kill switch off and the LAN allowed', async () => {
    expect(await show('office')).toMatchObject({ killSwitch: false, allowLan: true });
    const human = await cli(['show', 'office']);
    expect(human.stdout).toContain('  leak protection: kill switch off, local network allowed\n');
  });

  it('stores kill-switch and allow-lan, one or both at once, and show says so', async () => {
    const on = await cli(['set', 'office', 'kill-switch', 'on']);
    expect(on).toMatchObject({ code: 0, stderr: '' });
    expect(on.stdout).toBe('"office": kill switch on, local network allowed (from its next connection).\n');
    expect(await show('office')).toMatchObject({ killSwitch: true, allowLan: true });
    const json = await cli(['set', 'OFFICE', 'allow-lan', 'off', '--json']);
    expect(JSON.parse(json.stdout)).toEqual({ id: (await show('office')).id, name: 'office', killSwitch: true, allowLan: false });
    expect((await cli(['show', 'office'])).stdout).toContain('  leak protection: kill switch on, local network blocked\n');
    expect((await cli(['set', 'office', 'kill-switch', 'off', 'allow-lan', 'on'])).code).toBe(0);
    expect(await show('office')).toMatchObject({ killSwitch: false, allowLan: true });
  });

  it('refuses bad values, unknown settings and unknown profiles with the reason, changing nothing', async () => {
    const file = join(config(), 'profiles', `${(await show('office')).id}.json`);
    const stored = readFileSync(file, 'utf8');
    const cases: [string[], RegExp][] = [
      [['set', 'office', 'kill-switch', 'yes'], /kill-switch is "on" or "off", not "yes"/],
      [['set', 'office', 'kill-switch'], /set needs a profile and one or more "<setting> on\|off"/],
      [['set', 'office', 'firewall', 'on'], /there is no setting "firewall"; settings are kill-switch and allow-lan/],
      [['set', 'office', 'allow-lan', 'on', 'kill-switch', 'maybe'], /kill-switch is "on" or "off", not "maybe"/],
      [['set', 'nowhere', 'kill-switch', 'on'], /no profile has the id or name "nowhere"/],
      [['set'], /set needs a profile/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
    }
    expect(readFileSync(file, 'utf8')).toBe(stored);
    expect((await cli(['help', 'set'])).stdout).toMatch(/kill-switch +on: while connected or reconnecting/);
  });

  it('gives profiles imported after a change in the app’s Settings those defaults, and leaves the others', async () => {
    const settings = SettingsStore.inDir(config());
    await settings.set({ ...(await settings.load()), newProfileKillSwitch: true, newProfileAllowLan: false });
    await importProfile('guarded');
    expect(await show('guarded')).toMatchObject({ killSwitch: true, allowLan: false });
    const dry = await cli(['import', join(home, 'guarded.ovpn'), '--name', 'preview', '--dry-run', '--json']);
    expect(JSON.parse(dry.stdout).profile).toMatchObject({ killSwitch: true, allowLan: false });
    expect(await show('office')).toMatchObject({ killSwitch: false, allowLan: true });
    await settings.set({ ...settings.get(), newProfileKillSwitch: false, newProfileAllowLan: true });
    await importProfile('plain');
    expect(await show('plain')).toMatchObject({ killSwitch: false, allowLan: true });
  });

  it('reads a profile stored before these settings existed as kill switch off, LAN allowed', async () => {
    const settings = SettingsStore.inDir(config());
    await settings.set({ ...(await settings.load()), newProfileKillSwitch: true, newProfileAllowLan: false });
    const file = join(config(), 'profiles', `${(await show('plain')).id}.json`);
    const { killSwitch: _k, allowLan: _l, ...older } = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify(older, null, 2));
    const list = JSON.parse((await cli(['list', '--json'])).stdout) as { damaged: unknown[] };
    expect(list.damaged).toEqual([]);
    expect(await show('plain')).toMatchObject({ killSwitch: false, allowLan: true });
    expect(readdirSync(join(config(), 'profiles')).filter((f) => f.endsWith('.json'))).toHaveLength(3);
  });
});

describe('causeway connect: what the helper is told', () => {
  it('sends the stored settings, and --kill-switch turns the kill switch on for one connection without storing it', async () => {
    expect((await cli(['set', 'office', 'allow-lan', 'off'])).code).toBe(0);
    expect(await connectOnce(['office'])).toEqual(['killSwitch=false allowLan=false']);
    expect(await connectOnce(['office', '--kill-switch'])).toEqual(['killSwitch=true allowLan=false']);
    expect(await show('office')).toMatchObject({ killSwitch: false, allowLan: false });
    expect(await connectOnce(['office'])).toEqual(['killSwitch=false allowLan=false']);
    expect((await cli(['set', 'office', 'kill-switch', 'on', 'allow-lan', 'on'])).code).toBe(0);
    expect(await connectOnce(['office'])).toEqual(['killSwitch=true allowLan=true']);
    // The user sees it in the profile's log too.
    const logs = await cli(['logs', 'office']);
    expect(logs.stdout).toMatch(/connecting \(attempt 1\) to vpn\.example\.test:1194\/udp \(kill switch on, LAN allowed\)/);
  });
});
