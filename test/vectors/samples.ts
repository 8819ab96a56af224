// Sample protocol messages for tests and the lab, built from the shared vectors: the vectors in
// helper-protocol/valid/ are the project's only full sample configs (the helper's Rust tests read
// the same files), so a new EngineConfig field is added to them and nowhere else.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineConfig, PushedSettings } from '../../app/helper-protocol/messages.js';

/** The `message` of test/vectors/helper-protocol/valid/<name>.json. */
export function validVector(name: string): Record<string, unknown> {
  const path = join(import.meta.dirname, 'helper-protocol/valid', `${name}.json`);
  return (JSON.parse(readFileSync(path, 'utf8')) as { message: Record<string, unknown> }).message;
}

/** A typical certificate-less configuration with every default (to-connect-typical.json). */
export function sampleEngineConfig(overrides: Partial<EngineConfig> = {}): EngineConfig {
  return { ...(validVector('to-connect-typical').config as EngineConfig), ...overrides };
}

/** Settings a server pushed (from-pushed.json). */
export function samplePushed(overrides: Partial<PushedSettings> = {}): PushedSettings {
  return { ...(validVector('from-pushed').settings as PushedSettings), ...overrides };
}
