// The leak protection new profiles start with (kill switch, LAN access): one small JSON file in
// Causeway's config folder, so `causeway import` and the app's import (whose Settings screen
// changes it) give a new profile the same choice. A missing, damaged or hand-edited file with
// wrong values reads as the built-in defaults (kill switch off, LAN allowed) and is replaced on
// the next change.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DEFAULT_LEAK_PROTECTION, type LeakProtection } from '../../app/profile/index.js';

export class LeakDefaults {
  constructor(readonly file: string) {}

  /** The defaults file of a config folder (configDir() in paths.ts). */
  static inDir(configDir: string): LeakDefaults {
    return new LeakDefaults(join(configDir, 'new-profile-defaults.json'));
  }

  read(): LeakProtection {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(this.file, 'utf8'));
    } catch {
      return { ...DEFAULT_LEAK_PROTECTION };
    }
    const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Partial<Record<keyof LeakProtection, unknown>>;
    return {
      killSwitch: typeof r.killSwitch === 'boolean' ? r.killSwitch : DEFAULT_LEAK_PROTECTION.killSwitch,
      allowLan: typeof r.allowLan === 'boolean' ? r.allowLan : DEFAULT_LEAK_PROTECTION.allowLan,
    };
  }

  /** Atomic replace (mode 0600), so a crash leaves the old choice or the new one. */
  write(next: LeakProtection): LeakProtection {
    const value = { killSwitch: next.killSwitch, allowLan: next.allowLan };
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    const temp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      writeFileSync(temp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
      renameSync(temp, this.file);
    } catch (e) {
      rmSync(temp, { force: true });
      throw e;
    }
    return value;
  }
}
