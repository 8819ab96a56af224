// The desktop app's settings (start minimized, connect on startup, notifications), kept as a
// small JSON file beside the profiles, and the leak protection new profiles get, kept where the
// CLI's import reads it too (main/profiles/leak-defaults.ts). Electron-free: the e2e harness uses
// it as is. A damaged or unreadable file falls back to the defaults and is replaced on the next
// change.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Settings } from '../../app/ipc/types';
import { calls } from '../../app/ipc/schema';
import { DEFAULT_LEAK_PROTECTION } from '../../app/profile';
import { LeakDefaults } from '../profiles/leak-defaults';

type AppOnlySettings = Omit<Settings, 'newProfileKillSwitch' | 'newProfileAllowLan'>;

const appDefaults: AppOnlySettings = { connectOnStartup: null, startMinimized: false, notifications: true };

export const defaultSettings: Settings = {
  ...appDefaults,
  newProfileKillSwitch: DEFAULT_LEAK_PROTECTION.killSwitch,
  newProfileAllowLan: DEFAULT_LEAK_PROTECTION.allowLan,
};

export class SettingsStore {
  private current: Settings = defaultSettings;

  constructor(
    private readonly file: string,
    private readonly leakDefaults: LeakDefaults,
  ) {}

  /** The app's settings file and the new-profile defaults of one config folder (configDir()). */
  static inDir(dir: string): SettingsStore {
    return new SettingsStore(join(dir, 'desktop-settings.json'), LeakDefaults.inDir(dir));
  }

  async load(): Promise<Settings> {
    const leak = this.leakDefaults.read();
    const withLeak = { newProfileKillSwitch: leak.killSwitch, newProfileAllowLan: leak.allowLan };
    try {
      const raw = JSON.parse(await readFile(this.file, 'utf8')) as unknown;
      // Same validator as the setSettings call: a hand-edited file gets no more say than the renderer.
      const [parsed] = calls.setSettings.args.parse([{ ...appDefaults, ...(raw as object), ...withLeak }], 'settings');
      this.current = parsed;
    } catch {
      this.current = { ...appDefaults, ...withLeak };
    }
    return this.current;
  }

  get(): Settings {
    return this.current;
  }

  async set(next: Settings): Promise<Settings> {
    const { newProfileKillSwitch, newProfileAllowLan, ...appOnly } = next;
    await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(appOnly, null, 2)}\n`, { mode: 0o600 });
    await rename(tmp, this.file);
    this.leakDefaults.write({ killSwitch: newProfileKillSwitch, allowLan: newProfileAllowLan });
    this.current = next;
    return next;
  }
}
