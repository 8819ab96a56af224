import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseClientMessage, parseHelperMessage, ProtocolError } from './validate.js';
import { sampleEngineConfig, samplePushed } from '../../test/vectors/samples.js';

describe('parseClientMessage', () => {
  it('accepts every client message type', () => {
    const messages = [
      { type: 'hello', version: 1, client: 'causeway 0.1.0' },
      { type: 'connect', session: 's1', config: sampleEngineConfig() },
      { type: 'credentials', session: 's1', username: 'alice', password: 'pw', response: null },
      { type: 'crResponse', session: 's1', response: '123456' },
      { type: 'disconnect', session: 's1' },
      { type: 'status' },
    ];
    for (const m of messages) expect(parseClientMessage(m)).toBe(m);
  });

  it('rejects unknown types, unknown fields, missing fields and wrong types, naming the path', () => {
    expect(() => parseClientMessage({ type: 'shell', cmd: 'id' })).toThrow(/unknown type "shell"/);
    expect(() => parseClientMessage({ type: 'status', extra: 1 })).toThrow(/unknown field "extra"/);
    expect(() => parseClientMessage({ type: 'disconnect' })).toThrow(/missing field "session"/);
    expect(() => parseClientMessage({ type: 'disconnect', session: '' })).toThrow(/disconnect.session/);
    expect(() => parseClientMessage([])).toThrow(ProtocolError);
    expect(() => parseClientMessage(null)).toThrow(ProtocolError);
    const bad = sampleEngineConfig({ remotes: [{ host: 'h', port: 70000, proto: 'udp', family: 'any' }] });
    expect(() => parseClientMessage({ type: 'connect', session: 's', config: bad })).toThrow(
      /connect\.config\.remotes\[0\]\.port/,
    );
    const noRemotes = sampleEngineConfig({ remotes: [] });
    expect(() => parseClientMessage({ type: 'connect', session: 's', config: noRemotes })).toThrow(/at least 1/);
    const path = { ...sampleEngineConfig(), caPath: '/etc/ssl/ca.pem' };
    expect(() => parseClientMessage({ type: 'connect', session: 's', config: path })).toThrow(/unknown field "caPath"/);
  });

  it('rejects a __proto__ key smuggled through JSON', () => {
    const m = JSON.parse('{"type":"status","__proto__":{"polluted":true}}');
    expect(() => parseClientMessage(m)).toThrow(/unknown field "__proto__"/);
  });

  it('never puts field values (possible secrets) in its errors', () => {
    const secret = 'hunter2-very-secret';
    try {
      parseClientMessage({ type: 'credentials', session: 's', username: 'a', password: secret, response: 7 });
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toMatch(/credentials\.response/);
      expect((e as Error).message).not.toContain(secret);
    }
  });
});

describe('parseHelperMessage', () => {
  it('accepts every helper message type', () => {
    const messages = [
      { type: 'hello', version: 1, helper: 'causeway-helper 0.1.0' },
      { type: 'state', session: 's', phase: 'connecting', remote: { host: 'h', address: '1.2.3.4', port: 1194, proto: 'udp' }, error: null },
      { type: 'state', session: 's', phase: 'failed', remote: null, error: { code: 'auth-failed', message: 'AUTH_FAILED' } },
      { type: 'needCredentials', session: 's', kind: 'crv1', challenge: 'Enter PIN', echo: true, username: 'alice' },
      { type: 'authPending', session: 's', method: 'webauth', payload: 'https://idp.example/x', echo: false, timeoutSec: 300 },
      { type: 'pushed', session: 's', settings: samplePushed() },
      { type: 'echo', session: 's', text: 'Welcome' },
      { type: 'stats', session: 's', rxBytes: 1, txBytes: 2 },
      { type: 'log', session: null, level: 'info', text: 'started' },
      { type: 'error', session: null, code: 'bad-message', message: 'bad frame' },
      { type: 'statusReply', sessions: [{ session: 's', phase: 'connected', uid: 1000, device: 'cw0', rxBytes: 0, txBytes: 0, connectedSince: null }] },
    ];
    for (const m of messages) expect(parseHelperMessage(m)).toBe(m);
  });

  it('rejects client-only messages, unknown phases and negative counters', () => {
    expect(() => parseHelperMessage({ type: 'status' })).toThrow(/unknown type "status"/);
    expect(() => parseHelperMessage({ type: 'state', session: 's', phase: 'dancing', remote: null, error: null })).toThrow(/state\.phase/);
    expect(() => parseHelperMessage({ type: 'stats', session: 's', rxBytes: -1, txBytes: 0 })).toThrow(/stats\.rxBytes/);
    expect(() => parseHelperMessage({ type: 'stats', session: 's', rxBytes: 1.5, txBytes: 0 })).toThrow(/stats\.rxBytes/);
  });
});

// Shared vectors: the helper (Rust) checks the same files.
const vectorsDir = join(import.meta.dirname, '../../test/vectors/helper-protocol');
interface Vector {
  direction: 'toHelper' | 'fromHelper';
  message: unknown;
  reason?: string;
}
function loadVectors(kind: 'valid' | 'invalid'): [string, Vector][] {
  const dir = join(vectorsDir, kind);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => [f, JSON.parse(readFileSync(join(dir, f), 'utf8')) as Vector]);
}
const parse = (v: Vector) => (v.direction === 'toHelper' ? parseClientMessage(v.message) : parseHelperMessage(v.message));

describe('shared vectors test/vectors/helper-protocol', () => {
  // One test per direction of verdict, reporting every vector that disagrees at once.
  it('accepts every valid vector', () => {
    expect(loadVectors('valid').length).toBeGreaterThan(10);
    const wrong = loadVectors('valid').flatMap(([name, v]) => {
      try {
        parse(v);
        return [];
      } catch (e) {
        return [`${name}: ${(e as Error).message}`];
      }
    });
    expect(wrong).toEqual([]);
  });
  it('rejects every valid vector with any one field left out, as the helper does', () => {
    const fieldPaths = (value: unknown, prefix: string[]): string[][] =>
      typeof value !== 'object' || value === null
        ? []
        : Object.entries(value).flatMap(([key, child]) => {
            const path = [...prefix, key];
            return Array.isArray(value) ? fieldPaths(child, path) : [path, ...fieldPaths(child, path)];
          });
    const without = (value: unknown, path: string[]): unknown => {
      const copy = structuredClone(value) as Record<string, unknown>;
      const parent = path.slice(0, -1).reduce<Record<string, unknown>>((node, key) => node[key] as Record<string, unknown>, copy);
      delete parent[path.at(-1)!];
      return copy;
    };
    let checked = 0;
    const accepted = loadVectors('valid').flatMap(([name, v]) =>
      fieldPaths(v.message, []).flatMap((path) => {
        checked++;
        try {
          parse({ ...v, message: without(v.message, path) });
          return [`${name} without ${path.join('.')}`];
        } catch {
          return [];
        }
      }),
    );
    expect(accepted).toEqual([]);
    expect(checked).toBeGreaterThan(300);
  });
  it('rejects every invalid vector', () => {
    expect(loadVectors('invalid').length).toBeGreaterThan(10);
    const accepted = loadVectors('invalid').flatMap(([name, v]) => {
      try {
        parse(v);
        return [`${name} was accepted (${v.reason ?? 'no reason given'})`];
      } catch (e) {
        return e instanceof ProtocolError ? [] : [`${name}: ${String(e)}`];
      }
    });
    expect(accepted).toEqual([]);
  });
});
