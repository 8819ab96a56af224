import { describe, expect, it, vi } from 'vitest';
import { buildBridge, CausewayCallError, type BridgeTransport } from './bridge';
import { createDispatcher, UserFacingError, type CausewayService } from './handlers';
import { callNames, calls, eventChannel, MAX_PROFILE_BYTES } from './schema';

/** A service whose every method records its arguments; tests override single methods. */
function recordingService(overrides: Partial<CausewayService> = {}): { service: CausewayService; seen: [string, unknown[]][] } {
  const seen: [string, unknown[]][] = [];
  const service = Object.fromEntries(
    callNames.map((n) => [n, async (...args: unknown[]) => void seen.push([n, args])]),
  ) as unknown as CausewayService;
  return { service: { ...service, ...overrides }, seen };
}

/** Wires a bridge straight to a dispatcher, as the Electron preload + ipcMain pair do. */
function loopback(service: CausewayService) {
  const internal = vi.fn();
  const dispatcher = createDispatcher(service, internal);
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  const transport: BridgeTransport = {
    invoke: (channel, args) => dispatcher.dispatch(channel.replace('causeway:call:', ''), args),
    subscribe(channel, listener) {
      const set = listeners.get(channel) ?? new Set();
      set.add(listener);
      listeners.set(channel, set);
      return () => set.delete(listener);
    },
  };
  const emit = (channel: string, payload: unknown) => listeners.get(channel)?.forEach((l) => l(payload));
  return { bridge: buildBridge(transport), dispatcher, internal, emit };
}

describe('the IPC schema', () => {
  it('has no generic file, decrypt or URL call', () => {
    for (const n of callNames) expect(n).not.toMatch(/readFile|writeFile|openFile|path|decrypt|url|exec|external|shell/i);
  });

  it('gives every call a validator', () => {
    for (const n of callNames) expect(typeof calls[n].args.parse).toBe('function');
  });
});

describe('dispatcher validation', () => {
  const { service, seen } = recordingService();
  const { dispatcher } = loopback(service);

  it('passes valid arguments to the service', async () => {
    const bytes = new TextEncoder().encode('client\nremote vpn.example.com\n');
    expect(await dispatcher.dispatch('importProfile', [bytes, 'Work'])).toEqual({ ok: true, value: undefined });
    expect(seen.at(-1)).toEqual(['importProfile', [bytes, 'Work']]);
  });

  const oidc = { issuer: 'https://login.example.com/realms/staff', clientId: 'causeway', scopes: 'openid email', usernameClaim: 'email', token: 'id_token' };

  it('passes OIDC settings, and null to remove them', async () => {
    expect(await dispatcher.dispatch('setProfileOidc', ['work', oidc])).toEqual({ ok: true, value: undefined });
    expect(seen.at(-1)).toEqual(['setProfileOidc', ['work', oidc]]);
    expect(await dispatcher.dispatch('setProfileOidc', ['work', null])).toEqual({ ok: true, value: undefined });
    expect(seen.at(-1)).toEqual(['setProfileOidc', ['work', null]]);
  });

  it.each([
    ['OIDC settings with an unknown field', 'setProfileOidc', ['work', { ...oidc, clientSecret: 'x' }], 'invalid-request'],
    ['OIDC settings without a client id', 'setProfileOidc', ['work', { ...oidc, clientId: '' }], 'invalid-request'],
    ['OIDC settings missing a field', 'setProfileOidc', ['work', { issuer: oidc.issuer, clientId: 'c' }], 'invalid-request'],
    ['an over-long OIDC issuer', 'setProfileOidc', ['work', { ...oidc, issuer: `https://x.example/${'a'.repeat(2100)}` }], 'invalid-request'],
    ['an unknown OIDC token kind', 'setProfileOidc', ['work', { ...oidc, token: 'refresh_token' }], 'invalid-request'],
    ['unknown call', 'readFile', ['/etc/shadow'], 'unknown-call'],
    ['wrong arity', 'connect', [], 'invalid-request'],
    ['extra argument', 'connect', ['a', 'b'], 'invalid-request'],
    ['non-string id', 'connect', [42], 'invalid-request'],
    ['id with a slash', 'removeProfile', ['../x'], 'invalid-request'],
    ['string instead of bytes', 'importProfile', ['client', 'Work'], 'invalid-request'],
    ['empty profile', 'importProfile', [new Uint8Array(0), 'Work'], 'invalid-request'],
    ['huge profile', 'importProfile', [new Uint8Array(MAX_PROFILE_BYTES + 1), 'Work'], 'invalid-request'],
    ['empty name', 'renameProfile', ['p1', ''], 'invalid-request'],
    ['args not a list', 'getSnapshot', { length: 0 }, 'invalid-request'],
    ['unknown answer kind', 'answerPrompt', ['q1', { kind: 'shell', response: 'x' }], 'invalid-request'],
    ['unknown field in answer', 'answerPrompt', ['q1', { kind: 'response', response: 'x', extra: 1 }], 'invalid-request'],
    ['missing remember', 'answerPrompt', ['q1', { kind: 'password', username: 'u', password: 'p' }], 'invalid-request'],
    ['settings with extra key', 'setSettings', [{ connectOnStartup: null, startMinimized: false, notifications: true, devTools: true }], 'invalid-request'],
    ['prototype-polluting object', 'setSettings', [JSON.parse('{"__proto__":{"x":1},"connectOnStartup":null,"startMinimized":false,"notifications":true}')], 'invalid-request'],
  ])('rejects %s', async (_label, name, args, code) => {
    const before = seen.length;
    const out = await dispatcher.dispatch(name, args);
    expect(out).toMatchObject({ ok: false, error: { code } });
    expect(seen.length).toBe(before);
  });

  it('never echoes a rejected value in the error', async () => {
    const out = await dispatcher.dispatch('answerPrompt', ['q1', { kind: 'password', username: 'u', password: 's3cret-hunter2', response: null, remember: 'yes' }]);
    expect(JSON.stringify(out)).not.toContain('s3cret-hunter2');
    expect(out).toMatchObject({ ok: false, error: { message: expect.stringContaining('remember') } });
  });
});

describe('bridge over the dispatcher', () => {
  it('returns values and rethrows user-facing errors with their message', async () => {
    const { service } = recordingService({
      getSettings: async () => ({ connectOnStartup: null, startMinimized: true, notifications: true, newProfileKillSwitch: false, newProfileAllowLan: true }),
      removeProfile: async () => {
        throw new UserFacingError('no-such-profile', 'That profile no longer exists.');
      },
    });
    const { bridge } = loopback(service);
    await expect(bridge.getSettings()).resolves.toEqual({ connectOnStartup: null, startMinimized: true, notifications: true, newProfileKillSwitch: false, newProfileAllowLan: true });
    const err = await bridge.removeProfile('p9').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CausewayCallError);
    expect(err).toMatchObject({ code: 'no-such-profile', message: 'That profile no longer exists.' });
  });

  it('hides the text of unexpected errors from the renderer', async () => {
    const { service } = recordingService({
      connect: async () => {
        throw new Error('ENOENT /home/u/.config/secret-path');
      },
    });
    const { bridge, internal } = loopback(service);
    const err = (await bridge.connect('p1').catch((e: unknown) => e)) as Error;
    expect(err.message).not.toContain('secret-path');
    expect(internal).toHaveBeenCalledOnce();
  });

  it('delivers events to subscribers until they unsubscribe', () => {
    const { bridge, emit } = loopback(recordingService().service);
    const seen: unknown[] = [];
    const off = bridge.on('stats', (s) => seen.push(s.rxBytes));
    emit(eventChannel('stats'), { profileId: 'p1', rxBytes: 10, txBytes: 2 });
    off();
    emit(eventChannel('stats'), { profileId: 'p1', rxBytes: 20, txBytes: 2 });
    expect(seen).toEqual([10]);
  });

  it('is frozen and refuses unknown events', () => {
    const { bridge } = loopback(recordingService().service);
    expect(Object.isFrozen(bridge)).toBe(true);
    expect(() => bridge.on('anything' as never, () => {})).toThrow(/unknown event/);
  });
});
