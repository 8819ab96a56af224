import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redactor } from './redact.js';
import { logDir, logFile, MAX_LOG_BYTES, readProfileLog, SessionLog } from './session-log.js';

describe('SessionLog', () => {
  it('writes redacted, timestamped lines to a private file and rotates it past the size limit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-log-'));
    try {
      const redactor = new Redactor();
      redactor.add('my-session-password');
      const log = new SessionLog(redactor, logFile(join(dir, 'logs'), 'corp'), () => Date.UTC(2026, 0, 2, 3, 4, 5));
      expect(log.write('causeway', 'info', 'sent my-session-password')).toBe('2026-01-02T03:04:05.000Z causeway info: sent [redacted]');
      expect(statSync(join(dir, 'logs')).mode & 0o777).toBe(0o700);
      expect(statSync(logFile(join(dir, 'logs'), 'corp')).mode & 0o777).toBe(0o600);
      const filler = 'tick '.repeat(200); // ordinary text (a long unbroken run would be redacted as base64)
      for (let i = 0; i * 1000 < MAX_LOG_BYTES + 5000; i++) log.write('helper', 'debug', filler);
      const lines = readProfileLog(join(dir, 'logs'), 'corp');
      expect(lines[0]).toContain('sent [redacted]'); // the rotated file comes first
      expect(statSync(`${logFile(join(dir, 'logs'), 'corp')}.1`).size).toBeGreaterThan(MAX_LOG_BYTES);
      expect(log.lines().length).toBeLessThanOrEqual(2000);
      expect(readProfileLog(join(dir, 'logs'), 'nobody')).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('puts logs where each platform keeps them', () => {
    expect(logDir({ HOME: '/home/u' }, 'linux')).toBe('/home/u/.local/state/causeway/logs');
    expect(logDir({ HOME: '/home/u', XDG_STATE_HOME: '/s' }, 'linux')).toBe('/s/causeway/logs');
    expect(logDir({ HOME: '/Users/u' }, 'darwin')).toBe('/Users/u/Library/Logs/Causeway');
    expect(logDir({ HOME: '/x', CAUSEWAY_LOG_DIR: '/custom' }, 'linux')).toBe('/custom');
  });
});
