// openCore wires the real stores and the connection manager the way the CLI and the app use them.
import { describe, expect, it } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useTempPki } from '../test/support/temp-pki.js';
import { openCore } from './core.js';
import { MemoryStore } from './secrets/memory-store.js';
import { importOvpnFile } from './profiles/importer.js';
import type { Prompter } from './connection/prompter.js';

const fakeHelper = join(import.meta.dirname, 'helper', 'testing', 'fake-helper.mjs');
const t = useTempPki('cw-core-');

describe('openCore', () => {
  it('opens the stores under the home folder and connects through the helper it locates', async () => {
    const home = join(t.dir, 'home');
    const asked: string[] = [];
    const prompter: Prompter = {
      ask: async (r) => {
        asked.push(r.kind);
        return { kind: 'credentials', username: 'alice', password: 'right', response: null, remember: false };
      },
    };
    const core = await openCore({
      prompter,
      home,
      env: { PATH: process.env.PATH, CAUSEWAY_HELPER: fakeHelper },
      helper: { wrap: [] }, // the stand-in needs no privileges (no pkexec for a developer who is not root)
      secrets: new MemoryStore(),
    });
    try {
      expect(core.logDir).toBe(join(home, '.local', 'state', 'causeway', 'logs'));
      const file = join(t.dir, 'pw.ovpn');
      writeFileSync(file, `client\nremote vpn.example.test 1194\nauth-user-pass\n<ca>\n${t.pki.ca}</ca>\n`);
      const imported = await importOvpnFile(core.profiles, file, { name: 'Office' });
      expect(existsSync(join(home, '.config', 'Causeway', 'profiles', `${imported.profile!.id}.json`))).toBe(true);

      const states: string[] = [];
      core.connections.on((e) => e.type === 'state' && states.push(e.session.state.phase));
      core.connections.connect('Office');
      await expect.poll(() => states.at(-1), { timeout: 5_000 }).toBe('connected');
      expect(asked).toEqual(['credentials']);
      await core.connections.disconnect('Office');
      expect(core.readLog('Office').join('\n')).toMatch(/state connected[\s\S]*state disconnected/);
      expect(existsSync(join(core.logDir!, '_helper.log'))).toBe(true);
    } finally {
      await core.shutdown();
    }
  });

  it('honours an explicit config folder and memory-only logs (the desktop app)', async () => {
    const core = await openCore({
      prompter: { ask: async () => null },
      configDir: join(t.dir, 'userData'),
      logDir: null,
      env: { PATH: process.env.PATH, CAUSEWAY_SECRET_STORE: 'memory' },
    });
    expect(core.secrets.backend).toBe('memory');
    expect(core.profiles.dir).toBe(join(t.dir, 'userData', 'profiles'));
    expect(core.certs.dir).toBe(join(t.dir, 'userData', 'certificates'));
    expect(core.logDir).toBeNull();
    await core.shutdown();
  });
});
