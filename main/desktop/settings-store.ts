// The desktop app's own settings (start minimized, connect on startup, notifications), kept as a
// small JSON file beside the profiles. Electron-free: the e2e harness uses it as is. A damaged or
// unreadable file falls back to the defaults and is replaced on the next change.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Settings } from '../../app/ipc/types';
import { calls } from '../../app/ipc/schema';

export const defaultSettings: Settings = { connectOnStartup: null, startMinimized: false, notifications: true };

export class SettingsStore {
  private current: Settings = defaultSettings;

  constructor(private readonly file: string) {}

  static inDir(dir: string): SettingsStore {
    return new SettingsStore(join(dir, 'desktop-settings.json'));
  }

  async load(): Promise<Settings> {
    try {
      const raw = JSON.parse(await readFile(this.file, 'utf8')) as unknown;
      // Same validator as the setSettings call: a hand-edited file gets no more say than the renderer.
      const [parsed] = calls.setSettings.args.parse([{ ...defaultSettings, ...(raw as object) }], 'settings');
      this.current = parsed;
    } catch {
      this.current = defaultSettings;
    }
    return this.current;
  }

  get(): Settings {
    return this.current;
  }

  async set(next: Settings): Promise<Settings> {
    await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
    await rename(tmp, this.file);
    this.current = next;
    return next;
  }
}
