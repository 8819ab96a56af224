// The ConnectionManager against a scripted helper process (main/helper/testing/fake-helper.mjs)
// speaking the real protocol over real stdio: prompts, auth-retry, crashes, several sessions.
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { useTempPki } from '../../test/support/temp-pki.js';
import type { Profile } from '../../app/profile/index.js';
import { storedProfile } from '../../test/support/stored-profile.js';
import type { ConnectionPhase } from '../../app/connection/state.js';
import { MemoryStore } from '../secrets/memory-store.js';
import type { SecretStore } from '../secrets/secret-store.js';
import { connectHelper } from '../helper/connect.js';
import { ConnectionManager, keyAccount, passwordAccount, usernameAccount, type ConnectionPolicy, type ManagerEvent } from './manager.js';
import { proxyCredentialsAccount } from '../profiles/secret-accounts.js';
import type { PromptAnswer, Prompter, PromptRequest } from './prompter.js';
import type { LoginFlows } from './login-hooks.js';
import { readProfileLog } from './session-log.js';

const fakeHelper = join(import.meta.dirname, '..', 'helper', 'testing', 'fake-helper.mjs');
const t = useTempPki('cw-manager-');

function profile(id: string, body: string): Profile {
  return storedProfile(`client\nremote vpn.example.test 1194 udp\n${body}\n<ca>\n${t.pki.ca}</ca>\n`, { id, name: id.toUpperCase() }).profile;
}
const certBody = () => `<cert>\n${t.pki.clientEc.cert}</cert>\n<key>\n${t.pki.clientEc.key}</key>`;

/** A persistent in-memory store (the real keyring is tested in main/secrets). */
function persistentStore(): SecretStore {
  const m = new Map<string, string>();
  return {
    backend: 'secret-service',
    persistent: true,
    reason: null,
    get: async (a) => m.get(a) ?? null,
    set: async (a, s) => void m.set(a, s),
    delete: async (a) => void m.delete(a),
  };
}

/** A prompter that answers from a script and records what it was asked. */
class ScriptedPrompter implements Prompter {
  asked: PromptRequest[] = [];
  constructor(private readonly answers: Array<PromptAnswer | 'never' | null>) {}
  async ask(request: PromptRequest, signal: AbortSignal): Promise<PromptAnswer | null> {
    this.asked.push(request);
    const a = this.answers.shift();
    if (a === 'never' || a === undefined) {
      return new Promise((resolve) => signal.addEventListener('abort', () => resolve(null)));
    }
    return a;
  }
}

interface Harness {
  manager: ConnectionManager;
  events: ManagerEvent[];
  helperLog: string[];
  secrets: SecretStore;
  phases(sessionProfileId: string): ConnectionPhase[];
  until(profileId: string, phase: ConnectionPhase, timeoutMs?: number): Promise<void>;
}
const managers: ConnectionManager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.shutdown()));
});

interface HarnessOptions {
  mode?: string;
  env?: Record<string, string>;
  secrets?: SecretStore;
  policy?: Partial<ConnectionPolicy>;
  flows?: LoginFlows;
}

function harness(profiles: Profile[], prompter: Prompter, opts: HarnessOptions = {}): Harness {
  const helperLog: string[] = [];
  const events: ManagerEvent[] = [];
  const secrets = opts.secrets ?? new MemoryStore();
  const manager = new ConnectionManager({
    profiles: {
      resolve: (x) => {
        const p = profiles.find((p) => p.id === x || p.name === x);
        if (!p) throw new Error(`no profile ${x}`);
        return p;
      },
    },
    secrets,
    prompter,
    connectHelper: () =>
      connectHelper({
        helperPath: fakeHelper,
        socketPath: null,
        wrap: [], // the stand-in needs no privileges (no pkexec for a developer who is not root)
        env: { ...process.env, FAKE_HELPER: opts.mode ?? 'normal', ...opts.env },
        onLog: (l) => helperLog.push(l),
      }),
    logDir: join(t.dir, 'logs'),
    loginFlows: opts.flows,
    policy: { helperRetryBaseMs: 20, authRetryDelayMs: 20, ...opts.policy },
  });
  managers.push(manager);
  manager.on((e) => events.push(e));
  const phases = (profileId: string) =>
    events.flatMap((e) => (e.type === 'state' && e.session.profileId === profileId ? [e.session.state.phase] : []));
  const until = (profileId: string, phase: ConnectionPhase, timeoutMs = 5_000) =>
    new Promise<void>((resolve, reject) => {
      if (manager.get(profileId)?.state.phase === phase) return resolve();
      const timer = setTimeout(() => {
        stop();
        reject(new Error(`${profileId} never reached ${phase}; phases: ${phases(profileId).join(' → ')}`));
      }, timeoutMs);
      const stop = manager.on((e) => {
        if (e.type === 'state' && e.session.profileId === profileId && e.session.state.phase === phase) {
          clearTimeout(timer);
          stop();
          resolve();
        }
      });
    });
  return { manager, events, helperLog, secrets, phases, until };
}

/** A harness for certificate profile `id` whose key is already in the secret store: no prompt. */
async function certHarness(id: string, opts: Omit<HarnessOptions, 'secrets'> = {}): Promise<Harness> {
  const secrets = new MemoryStore();
  await secrets.set(keyAccount(id), t.pki.clientEc.key);
  return harness([profile(id, certBody())], new ScriptedPrompter([]), { ...opts, secrets });
}

describe('ConnectionManager', () => {
  it('connects a certificate profile, reports what the server pushed, and disconnects', async () => {
    const p = profile('cert', certBody());
    const secrets = new MemoryStore();
    await secrets.set(keyAccount('cert'), t.pki.clientEc.key);
    const h = harness([p], new ScriptedPrompter([]), { secrets });
    h.manager.connect('cert');
    await h.until('cert', 'connected');
    const snap = h.manager.get('cert')!;
    expect(snap.pushed?.ipv4?.address).toMatch(/^10\.8\.0\./);
    expect(snap.banner).toEqual(['Welcome to the test VPN']);
    expect(snap.stats.connectedSince).not.toBeNull();
    expect(h.events.some((e) => e.type === 'stats' && e.stats.rxBytes === 1234)).toBe(true);
    expect(() => h.manager.connect('cert')).toThrow(/already connected/);
    await h.manager.disconnect('cert');
    expect(h.phases('cert')).toEqual(['resolving', 'connecting', 'authenticating', 'connected', 'disconnecting', 'idle']);
    expect(h.manager.get('cert')!.stats.connectedSince).toBeNull();
  });

  it("sends the profile's kill switch and LAN access, and --kill-switch's override for that connection only", async () => {
    const secrets = new MemoryStore();
    await secrets.set(keyAccount('guarded'), t.pki.clientEc.key);
    await secrets.set(keyAccount('locked'), t.pki.clientEc.key);
    const guarded = { ...profile('guarded', certBody()), killSwitch: false, allowLan: false };
    const locked = { ...profile('locked', certBody()), killSwitch: true };
    const h = harness([guarded, locked], new ScriptedPrompter([]), { secrets });
    const sent = () => h.helperLog.filter((l) => l.includes('connect killSwitch='));
    for (const [id, once, expected] of [
      ['locked', {}, 'killSwitch=true allowLan=true'],
      ['guarded', {}, 'killSwitch=false allowLan=false'],
      ['guarded', { killSwitch: true }, 'killSwitch=true allowLan=false'],
      ['guarded', {}, 'killSwitch=false allowLan=false'],
    ] as const) {
      const before = sent().length;
      h.manager.connect(id, once);
      await h.until(id, 'connected');
      await expect.poll(() => sent().length).toBe(before + 1); // stderr may lag stdout
      expect(sent().at(-1)).toBe(`fake-helper: connect ${expected}`);
      await h.manager.disconnect(id);
    }
  });

  it('fails with profile-invalid when the key is missing from the keyring', async () => {
    const h = harness([profile('nokey', certBody())], new ScriptedPrompter([]), { secrets: persistentStore() });
    h.manager.connect('nokey');
    await h.until('nokey', 'failed');
    expect(h.manager.get('nokey')!.state).toMatchObject({ reason: 'profile-invalid', detail: expect.stringMatching(/not in the keyring/) });
    expect(h.helperLog).toEqual([]); // no helper was even needed
  });

  it('says the keyring is unreachable, rather than "import again", when the store is not persistent', async () => {
    const h = harness([profile('nokeyring', certBody())], new ScriptedPrompter([]), { secrets: new MemoryStore('no D-Bus session bus') });
    h.manager.connect('nokeyring');
    await h.until('nokeyring', 'failed');
    expect(h.manager.get('nokeyring')!.state).toMatchObject({ reason: 'profile-invalid', detail: expect.stringMatching(/OS keyring, which is not available: no D-Bus session bus/) });
  });

  it('asks for the proxy password of a profile that says stdin, remembers it once connected, and uses it next time', async () => {
    const p = profile('askproxy', `${certBody()}\nsocks-proxy 192.0.2.9 1080 stdin`);
    expect(p.proxy).toMatchObject({ hasCredentials: false, askCredentials: true });
    const secrets = persistentStore();
    await secrets.set(keyAccount('askproxy'), t.pki.clientEc.key);
    const prompter = new ScriptedPrompter([{ kind: 'proxy-password', username: 'pu', password: 'proxy-right', remember: true }]);
    const h = harness([p], prompter, { secrets });
    h.manager.connect('askproxy');
    await h.until('askproxy', 'connected');
    expect(prompter.asked).toEqual([expect.objectContaining({ kind: 'proxy-password', proxy: '192.0.2.9:1080', username: null, canRemember: true, retryReason: null })]);
    await expect.poll(() => secrets.get(proxyCredentialsAccount('askproxy'))).toBe(JSON.stringify({ username: 'pu', password: 'proxy-right' }));
    await h.manager.disconnect('askproxy');
    h.manager.connect('askproxy');
    await h.until('askproxy', 'connected');
    expect(prompter.asked).toHaveLength(1);
    const logs = readProfileLog(join(t.dir, 'logs'), 'askproxy').join('\n');
    expect(logs).not.toContain('proxy-right');
  });

  it('fails a refused proxy password as bad proxy credentials, without retrying, and forgets it', async () => {
    const p = profile('badproxy', `${certBody()}\nsocks-proxy 192.0.2.9 1080 stdin`);
    const secrets = persistentStore();
    await secrets.set(keyAccount('badproxy'), t.pki.clientEc.key);
    await secrets.set(proxyCredentialsAccount('badproxy'), JSON.stringify({ username: 'pu', password: 'proxy-old' }));
    const prompter = new ScriptedPrompter([]);
    const h = harness([p], prompter, { secrets });
    h.manager.connect('badproxy');
    await h.until('badproxy', 'failed');
    expect(h.manager.get('badproxy')!.state).toMatchObject({ reason: 'bad-proxy-credentials', detail: expect.stringMatching(/refused the proxy username or password/) });
    expect(prompter.asked).toEqual([]);
    await expect.poll(() => secrets.get(proxyCredentialsAccount('badproxy'))).toBeNull();
    expect(h.phases('badproxy')).not.toContain('reconnecting');
  });

  it('asks for a password, and a wrong one fails fast as bad credentials without retrying', async () => {
    const prompter = new ScriptedPrompter([{ kind: 'credentials', username: 'alice', password: 'wrong-pw-1', response: null, remember: false }]);
    const h = harness([profile('pw', 'auth-user-pass')], prompter);
    const t0 = Date.now();
    h.manager.connect('pw');
    await h.until('pw', 'failed');
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(h.manager.get('pw')!.state).toMatchObject({ phase: 'failed', reason: 'bad-credentials' });
    expect(prompter.asked).toHaveLength(1);
    expect(prompter.asked[0]).toMatchObject({ kind: 'credentials', askPassword: true, challenge: null, canRemember: false });
    await expect.poll(() => h.helperLog.filter((l) => l.includes('received connect')).length).toBe(1); // stderr may lag
    expect(h.phases('pw')).toContain('authenticating');
    // The password never reaches the log, in memory or on disk.
    const lines = [...h.manager.logLines('pw'), ...readProfileLog(join(t.dir, 'logs'), 'pw')];
    expect(lines.length).toBeGreaterThan(3);
    expect(lines.join('\n')).not.toContain('wrong-pw-1');
  });

  it('remembers a password only once the server accepted it, and uses it next time without asking', async () => {
    const secrets = persistentStore();
    const prompter = new ScriptedPrompter([{ kind: 'credentials', username: 'alice', password: 'right', response: null, remember: true }]);
    const h = harness([profile('remember', 'auth-user-pass')], prompter, { secrets });
    h.manager.connect('remember');
    await h.until('remember', 'connected');
    expect(prompter.asked[0]).toMatchObject({ canRemember: true });
    await expect.poll(() => secrets.get(passwordAccount('remember'))).toBe('right');
    expect(await secrets.get(usernameAccount('remember'))).toBe('alice');
    await h.manager.disconnect('remember');
    h.manager.connect('remember');
    await h.until('remember', 'connected');
    expect(prompter.asked).toHaveLength(1);
  });

  it('asks once when the saved password is rejected, even with auth-retry none, and can replace it', async () => {
    const secrets = persistentStore();
    await secrets.set(passwordAccount('stale'), 'old-password');
    await secrets.set(usernameAccount('stale'), 'alice');
    const prompter = new ScriptedPrompter([{ kind: 'credentials', username: 'alice', password: 'right', response: null, remember: true }]);
    const h = harness([profile('stale', 'auth-user-pass')], prompter, { secrets });
    h.manager.connect('stale');
    await h.until('stale', 'connected');
    expect(prompter.asked).toEqual([expect.objectContaining({ username: 'alice', retryReason: expect.stringMatching(/saved password/) })]);
    await expect.poll(() => secrets.get(passwordAccount('stale'))).toBe('right');
  });

  it('still uses a saved password when login flows are registered but do not handle the profile', async () => {
    const secrets = persistentStore();
    await secrets.set(passwordAccount('saved'), 'right');
    await secrets.set(usernameAccount('saved'), 'alice');
    const prompter = new ScriptedPrompter([]);
    const h = harness([profile('saved', 'auth-user-pass')], prompter, { secrets, flows: { credentialsBeforeConnect: async () => null } });
    h.manager.connect('saved');
    await h.until('saved', 'connected');
    expect(prompter.asked).toEqual([]);
    expect(h.helperLog.filter((l) => l.includes('received credentials'))).toHaveLength(0); // sent with connect
  });

  it('with auth-retry interact asks again after a rejection, saying why', async () => {
    const prompter = new ScriptedPrompter([
      { kind: 'credentials', username: 'alice', password: 'typo', response: null, remember: false },
      { kind: 'credentials', username: 'alice', password: 'right', response: null, remember: false },
    ]);
    const h = harness([profile('interact', 'auth-user-pass\nauth-retry interact')], prompter);
    h.manager.connect('interact');
    await h.until('interact', 'connected');
    expect(prompter.asked).toHaveLength(2);
    expect(prompter.asked[1]).toMatchObject({ username: 'alice', retryReason: expect.stringMatching(/rejected/) });
    expect(h.phases('interact')).not.toContain('failed');
  });

  it('with auth-retry nointeract retries the same answer a bounded number of times, then fails', async () => {
    const prompter = new ScriptedPrompter([{ kind: 'credentials', username: 'alice', password: 'stale', response: null, remember: false }]);
    const h = harness([profile('nointeract', 'auth-user-pass\nauth-retry nointeract')], prompter, { policy: { authRetries: 2 } });
    h.manager.connect('nointeract');
    await h.until('nointeract', 'failed');
    expect(prompter.asked).toHaveLength(1);
    await expect.poll(() => h.helperLog.filter((l) => l.includes('received connect')).length).toBe(3); // first try + 2 retries
    expect(h.manager.get('nointeract')!.state).toMatchObject({ reason: 'bad-credentials' });
  });

  it('sends a static-challenge answer with the password, echo as the profile says', async () => {
    const prompter = new ScriptedPrompter([{ kind: 'credentials', username: 'bob', password: 'right', response: '123456', remember: false }]);
    const h = harness([profile('otp', 'auth-user-pass\nstatic-challenge "Enter your code" 0')], prompter);
    h.manager.connect('otp');
    await h.until('otp', 'connected');
    expect(prompter.asked[0]).toMatchObject({ challenge: { text: 'Enter your code', echo: false } });
    expect(h.manager.logLines('otp').join('\n')).not.toContain('123456');
  });

  it('on a reconnect that needs a fresh one-time code, asks only for the code', async () => {
    const prompter = new ScriptedPrompter([
      { kind: 'credentials', username: 'bob', password: 'right', response: '123456', remember: false },
      { kind: 'credentials', username: 'bob', password: '', response: '123456', remember: false },
    ]);
    const h = harness([profile('otp2', 'auth-user-pass\nstatic-challenge "Code" 0')], prompter, { mode: 'rechallenge-after-connect' });
    h.manager.connect('otp2');
    await expect.poll(() => h.phases('otp2').join(' '), { timeout: 5_000 }).toMatch(/connected reconnecting authenticating .*connected$/);
    expect(prompter.asked).toHaveLength(2);
    expect(prompter.asked[1]).toMatchObject({ username: 'bob', askPassword: false, challenge: { text: 'Code', echo: false } });
  });

  it('answers a CRV1 dynamic challenge through a challenge prompt', async () => {
    const prompter = new ScriptedPrompter([
      { kind: 'credentials', username: 'crv1-user', password: 'right', response: null, remember: false },
      { kind: 'challenge', response: '4321' },
    ]);
    const h = harness([profile('crv1', 'auth-user-pass')], prompter);
    h.manager.connect('crv1');
    await h.until('crv1', 'connected');
    expect(prompter.asked[1]).toMatchObject({ kind: 'challenge', text: 'Enter PIN', echo: true });
    expect(h.events.some((e) => e.type === 'state' && e.session.state.phase === 'authenticating' && e.session.state.waiting === 'challenge')).toBe(true);
  });

  it('fails with prompt-timeout when nobody answers, and tells the helper to stop', async () => {
    const h = harness([profile('slow', 'auth-user-pass')], new ScriptedPrompter(['never']), { policy: { promptTimeoutMs: 200 } });
    h.manager.connect('slow');
    await h.until('slow', 'failed');
    expect(h.manager.get('slow')!.state).toMatchObject({ reason: 'prompt-timeout' });
    await expect.poll(() => h.helperLog.includes('fake-helper: received disconnect')).toBe(true);
  });

  it('fails a session with helper-unavailable when the helper crashes, then retries with a new helper', async () => {
    const h = await certHarness('crash', {
      mode: 'crash-after-connect',
      policy: { helperRetries: 1 },
    });
    h.manager.connect('crash');
    await expect.poll(() => h.phases('crash').filter((p) => p === 'failed').length, { timeout: 5_000 }).toBe(2);
    const phases = h.phases('crash');
    expect(phases.filter((p) => p === 'connected')).toHaveLength(2); // a second helper brought it back once
    expect(h.manager.get('crash')!.state).toMatchObject({ reason: 'helper-unavailable', detail: 'the helper was killed by SIGKILL' });
    expect(h.events.some((e) => e.type === 'notice' && /helper stopped.*trying again/.test(e.text))).toBe(true);
  });

  it('does not retry after a crash when a prompt would be needed', async () => {
    const prompter = new ScriptedPrompter([{ kind: 'credentials', username: 'u', password: 'right', response: '123456', remember: false }]);
    const h = harness([profile('mfa-crash', 'auth-user-pass\nstatic-challenge "Code" 1')], prompter, { mode: 'crash-after-connect' });
    h.manager.connect('mfa-crash');
    await h.until('mfa-crash', 'failed');
    await new Promise((r) => setTimeout(r, 200));
    expect(h.manager.get('mfa-crash')!.state.phase).toBe('failed');
    expect(prompter.asked).toHaveLength(1);
  });

  it('runs several profiles at once, each with its own session', async () => {
    const secrets = new MemoryStore();
    await secrets.set(keyAccount('one'), t.pki.clientEc.key);
    await secrets.set(keyAccount('two'), t.pki.clientRsa.key);
    const two = profile('two', `<cert>\n${t.pki.clientRsa.cert}</cert>\n<key>\n${t.pki.clientRsa.key}</key>`);
    const h = harness([profile('one', certBody()), two], new ScriptedPrompter([]), { secrets });
    h.manager.connect('one');
    h.manager.connect('TWO');
    await Promise.all([h.until('one', 'connected'), h.until('two', 'connected')]);
    const [a, b] = [h.manager.get('one')!, h.manager.get('two')!];
    expect(a.id).not.toBe(b.id);
    expect(a.pushed?.device).not.toBe(b.pushed?.device);
    await h.manager.disconnect('one');
    expect(h.manager.get('one')!.state.phase).toBe('idle');
    expect(h.manager.get('two')!.state.phase).toBe('connected');
    expect(h.helperLog.filter((l) => l.includes('received hello'))).toHaveLength(1); // one helper for both
  });

  it('shows reconnecting while the engine recovers, then connected again', async () => {
    const h = await certHarness('flaky', { mode: 'drop-after-connect' });
    h.manager.connect('flaky');
    await expect.poll(() => h.phases('flaky').join(' '), { timeout: 5_000 }).toMatch(/connected reconnecting connected$/);
  });

  it('gives up when reconnecting lasts longer than the policy allows', async () => {
    const h = await certHarness('gone', {
      mode: 'drop-after-connect',
      policy: { maxReconnectMs: 10 },
    });
    h.manager.connect('gone');
    await h.until('gone', 'failed');
    expect(h.manager.get('gone')!.state).toMatchObject({ reason: 'server-unreachable', detail: expect.stringMatching(/no connection for/) });
  });

  it('tells the user, and the connection log, of a route the helper removed', async () => {
    const h = await certHarness('watched', { mode: 'route-removed-after-connect' });
    h.manager.connect('watched');
    await h.until('watched', 'connected');
    const text = 'Removed a route the local network added that would take tunnel traffic outside the tunnel: 192.0.2.0/24 via 192.168.1.1 dev eth0';
    await expect.poll(() => h.events.some((e) => e.type === 'notice' && e.text === text), { timeout: 5_000 }).toBe(true);
    expect(h.events.some((e) => e.type === 'log' && e.line.includes(text))).toBe(true);
    await h.manager.disconnect('watched');
  });

  it('announces a server session timeout and reconnects when no interaction is needed', async () => {
    const h = await certHarness('aws', {
      mode: 'expire-after-connect',
      env: { FAKE_SESSION_TIMEOUT: '28800' },
      policy: { reconnectOnSessionExpiry: true },
    });
    h.manager.connect('aws');
    await expect.poll(() => h.phases('aws').filter((p) => p === 'connected').length, { timeout: 5_000 }).toBeGreaterThanOrEqual(2);
    const notices = h.events.flatMap((e) => (e.type === 'notice' ? [e.text] : []));
    expect(notices).toContain('The server will end this session in 8 hours.');
    expect(notices).toContain('The server ended the session because its time limit was reached.');
    // Whoever watches (the CLI) learns that this failure is followed by a new attempt.
    const failed = h.events.find((e) => e.type === 'state' && e.session.state.phase === 'failed');
    expect(failed?.type === 'state' && failed.session.retrying).toBe(true);
  });

  it('hands AWS SAML profiles to the login flows: first-leg credentials, the CRV1 answer, lifecycle', async () => {
    const calls: string[] = [];
    const flows: LoginFlows = {
      credentialsBeforeConnect: async (ctx) => {
        calls.push(`before ${ctx.profile.auth.kind}`);
        return { username: 'crv1-user', password: 'right' };
      },
      answerCrv1: async (ctx, challenge) => {
        calls.push(`crv1 ${challenge.text}`);
        ctx.addSecret('4321');
        return '4321';
      },
      connected: (id) => calls.push(`connected ${id === h.manager.get('saml')!.id}`),
      ended: () => calls.push('ended'),
    };
    const prompter = new ScriptedPrompter([]);
    const h = harness([profile('saml', 'auth-user-pass\nauth-federate')], prompter, { flows });
    h.manager.connect('saml');
    await h.until('saml', 'connected');
    await h.manager.disconnect('saml');
    expect(calls).toEqual(['before aws-saml', 'crv1 Enter PIN', 'connected true', 'ended']);
    expect(prompter.asked).toEqual([]);
    expect(h.events.some((e) => e.type === 'state' && e.session.state.phase === 'authenticating' && e.session.state.waiting === 'browser')).toBe(true);
    expect(h.manager.logLines('saml').join('\n')).not.toContain('4321');
  });

  it('fails with sign-in-failed when the browser login does not complete', async () => {
    const flows: LoginFlows = {
      credentialsBeforeConnect: async () => {
        throw new Error('The identity provider did not answer within 300 s.');
      },
    };
    const h = harness([profile('sso', 'auth-user-pass\nauth-federate')], new ScriptedPrompter([]), { flows });
    h.manager.connect('sso');
    await h.until('sso', 'failed');
    expect(h.manager.get('sso')!.state).toEqual({ phase: 'failed', reason: 'sign-in-failed', detail: 'The identity provider did not answer within 300 s.' });
  });

  it('fails an AWS SAML profile clearly when no login flow is available', async () => {
    const h = harness([profile('saml2', 'auth-user-pass\nauth-federate')], new ScriptedPrompter([]));
    h.manager.connect('saml2');
    await h.until('saml2', 'failed');
    expect(h.manager.get('saml2')!.state).toMatchObject({ reason: 'profile-invalid', detail: expect.stringMatching(/browser \(AWS SAML\)/) });
  });

  it('warns when the client certificate has expired', async () => {
    const secrets = new MemoryStore();
    await secrets.set(keyAccount('old'), t.pki.expiredServer.key);
    const old = profile('old', `<cert>\n${t.pki.expiredServer.cert}</cert>\n<key>\n${t.pki.expiredServer.key}</key>`);
    const h = harness([old], new ScriptedPrompter([]), { secrets });
    h.manager.connect('old');
    await h.until('old', 'connected'); // the scripted server does not check it; a real one would refuse
    expect(h.events.some((e) => e.type === 'notice' && /certificate needs attention: the certificate expired on 2021-01-01/.test(e.text))).toBe(true);
  });

  it('reports an unreachable server with its reason', async () => {
    const h = await certHarness('down', { mode: 'unreachable' });
    h.manager.connect('down');
    await h.until('down', 'failed');
    expect(h.manager.get('down')!.state).toEqual({ phase: 'failed', reason: 'server-unreachable', detail: 'no answer from 192.0.2.10:1194' });
  });
});
