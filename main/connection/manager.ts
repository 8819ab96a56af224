// ConnectionManager: one state machine per profile session, all driven over one helper.
//
// It turns stored profiles into helper `connect` requests, answers the helper's questions
// (credentials, challenges, browser logins) through the Prompter and the LoginFlows, keeps
// per-session stats, pushed settings, banners and a redacted log, and decides when to give up:
//  - auth failures follow the profile's `auth-retry` (none: fail; nointeract: retry the same
//    credentials a few times; interact: ask again a few times);
//  - the engine reconnects by itself and reports 'reconnecting'; the manager gives up after
//    policy.maxReconnectMs without a tunnel;
//  - a helper crash fails every session with 'helper-unavailable'; sessions that need no prompt
//    (certificate, or credentials already known) are retried with a new helper, with backoff;
//  - a session timeout the server announces gives a notice before it happens; afterwards the
//    session reconnects only when that needs no user interaction and the policy allows it.
import { randomBytes, X509Certificate } from 'node:crypto';
import type { HelperMessage, PushedSettings } from '../../app/helper-protocol/messages.js';
import type { Profile } from '../../app/profile/model.js';
import { transition, isActive, type ConnectionEvent, type FailureReason } from '../../app/connection/state.js';
import type { SecretStore } from '../secrets/secret-store.js';
import type { HelperConnection } from '../helper/connect.js';
import { checkOpenableUrl } from '../auth/browser.js';
import { webAuthUrl } from '../auth/pending-auth.js';
import { certificateDetails, expiryWarning } from '../certs/certificate.js';
import { buildEngineConfig, ProfileUnusableError } from './engine-config.js';
import type { LoginContext, LoginFlows } from './login-hooks.js';
import type { PromptAnswer, Prompter, PromptRequest } from './prompter.js';
import { askWithDeadline } from './ask.js';
import { DEFAULT_POLICY, type ConnectionPolicy } from './retry-policy.js';
import { proxyCredentialsAccount, readProxyCredentials, readStaticKeys, STATIC_KEY_KINDS, type ProxyCredentials } from '../profiles/secret-accounts.js';
import {
  credentialsOf,
  keyAccount,
  noCredentials,
  passwordAccount,
  Session,
  usernameAccount,
  usernameOf,
  type Credentials,
  type SessionSnapshot,
  type SessionStats,
} from './session.js';

export { DEFAULT_POLICY, type ConnectionPolicy } from './retry-policy.js';
export { keyAccount, passwordAccount, usernameAccount, type SessionSnapshot, type SessionStats } from './session.js';

/** The subset of ProfileStore the manager needs. */
export interface ProfileSource {
  resolve(idOrName: string): Profile;
}

export interface ConnectionManagerOptions {
  profiles: ProfileSource;
  secrets: SecretStore;
  prompter: Prompter;
  /** Starts (or reaches) a helper; called again after the previous one went away. */
  connectHelper: () => Promise<HelperConnection>;
  loginFlows?: LoginFlows;
  /** Opens a URL in the user's browser (web auth without a LoginFlows hook). */
  openUrl?: (url: string) => Promise<void>;
  /** Directory for per-profile log files; null keeps logs in memory only. */
  logDir?: string | null;
  policy?: Partial<ConnectionPolicy>;
  guiVersion?: string;
  now?: () => number;
}

/** Choices for one connection that are not stored in the profile. */
export interface ConnectOnce {
  /** Kill switch on for this connection even when the profile has it off. */
  killSwitch?: boolean;
}

export type ManagerEvent =
  | { type: 'state'; session: SessionSnapshot }
  | { type: 'stats'; sessionId: string; stats: SessionStats }
  | { type: 'pushed'; sessionId: string; settings: PushedSettings }
  | { type: 'banner'; sessionId: string; text: string }
  | { type: 'notice'; sessionId: string; text: string }
  | { type: 'log'; sessionId: string; line: string };

/** A federated login (browser, IdP, token) did not produce credentials. */
class SignInError extends Error {
  override readonly name = 'SignInError';
}

export class ConnectionManager {
  private readonly sessions = new Map<string, Session>(); // by profile id
  private readonly byHelperSession = new Map<string, Session>();
  private readonly listeners = new Set<(e: ManagerEvent) => void>();
  private readonly policy: ConnectionPolicy;
  private readonly now: () => number;
  private helper: Promise<HelperConnection> | null = null;
  private closing = false;

  constructor(private readonly options: ConnectionManagerOptions) {
    this.policy = { ...DEFAULT_POLICY, ...options.policy };
    this.now = options.now ?? Date.now;
  }

  /** Subscribes to every session's events; returns the unsubscribe function. */
  on(listener: (e: ManagerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  list(): SessionSnapshot[] {
    return [...this.sessions.values()].map((s) => s.snapshot());
  }

  get(profileIdOrName: string): SessionSnapshot | null {
    const s = this.find(profileIdOrName);
    return s ? s.snapshot() : null;
  }

  /** The redacted log lines this process holds for a profile's session. */
  logLines(profileIdOrName: string): string[] {
    return this.find(profileIdOrName)?.log.lines() ?? [];
  }

  /**
   * Starts connecting a profile and returns its session at once; follow progress with on().
   * Throws when the profile does not exist or is already connecting or connected. The profile's
   * stored kill switch and LAN access apply; `once.killSwitch` turns the kill switch on for this
   * connection (its retries included) without storing it.
   */
  connect(profileIdOrName: string, once: ConnectOnce = {}): SessionSnapshot {
    if (this.closing) throw new Error('Causeway is shutting down');
    const profile = this.options.profiles.resolve(profileIdOrName);
    let session = this.sessions.get(profile.id);
    if (session && isActive(session.state)) {
      throw new Error(`profile "${profile.name}" is already ${session.state.phase}`);
    }
    if (!session) {
      session = new Session(`${profile.id}.${randomBytes(3).toString('hex')}`, profile, this.options.logDir ?? null, this.now);
      this.sessions.set(profile.id, session);
    }
    session.profile = profile;
    session.credentials = noCredentials(usernameOf(session.credentials));
    session.savedRejected = false;
    session.authRetries = 0;
    session.helperRetries = 0;
    session.banner = [];
    session.killSwitchOverride = once.killSwitch === true;
    this.start(session);
    this.warnAboutCertificate(session);
    return session.snapshot();
  }

  /** Disconnects a profile's session; resolves once it is idle (or already was). */
  async disconnect(profileIdOrName: string): Promise<void> {
    const session = this.find(profileIdOrName);
    if (!session || !isActive(session.state)) {
      if (session?.state.phase === 'failed') {
        // Also cancels a retry the manager had scheduled.
        session.clearTimers();
        session.retryPending = false;
        this.apply(session, { type: 'dismiss' });
      }
      return;
    }
    const idle = new Promise<void>((resolve) => session.idle.push(resolve));
    if (session.state.phase !== 'disconnecting') {
      this.note(session, 'disconnect requested');
      this.apply(session, { type: 'disconnect' });
      this.endAttempt(session, true);
      // Nothing runs in the helper yet (still gathering secrets or starting it): done.
      if (session.helperSession === null) this.apply(session, { type: 'fail', reason: 'cancelled', detail: null });
      const t = setTimeout(() => {
        this.note(session, 'the helper did not confirm the disconnect in time');
        this.apply(session, { type: 'fail', reason: 'internal', detail: 'disconnect timed out' });
      }, this.policy.disconnectTimeoutMs);
      session.timers.add(t);
    }
    await idle;
  }

  async disconnectAll(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => this.disconnect(s.profile.id)));
  }

  /** Disconnects everything and stops the helper. */
  async shutdown(): Promise<void> {
    this.closing = true;
    await this.disconnectAll();
    for (const s of this.sessions.values()) s.clearTimers();
    const helper = this.helper;
    this.helper = null;
    if (helper) await helper.then((h) => h.shutdown()).catch(() => undefined);
  }

  /** An expired or soon-expiring client certificate gets a notice before the server refuses it. */
  private warnAboutCertificate(session: Session): void {
    const pem = session.profile.cert;
    if (!pem) return;
    try {
      const warning = expiryWarning(certificateDetails(new X509Certificate(pem)), this.now());
      if (warning) this.notice(session, `Your certificate needs attention: ${warning}.`);
    } catch {
      // An unreadable certificate is the engine's to report, with the TLS error.
    }
  }

  // ---- attempts ----

  private start(session: Session): void {
    session.retryPending = false;
    if (!this.apply(session, { type: 'connect' })) return;
    void this.attempt(session);
  }

  /** One connection attempt: gather secrets, build the config, hand it to the helper. */
  private async attempt(session: Session): Promise<void> {
    const profile = session.profile;
    session.attempt++;
    session.abort = new AbortController();
    const signal = session.abort.signal;
    const helperSession = `${session.id}.${session.attempt}`;
    try {
      const key = profile.hasKey || profile.cert !== null ? await this.options.secrets.get(keyAccount(profile.id)) : null;
      session.redactor.add(key);
      if (profile.cert !== null && key === null && !this.options.secrets.persistent) {
        // The key is in the OS keyring, which this process cannot reach: say that, not "re-import".
        throw new ProfileUnusableError(`the private key is kept in the OS keyring, which is not available: ${this.options.secrets.reason}`);
      }
      const staticKeys = await readStaticKeys(this.options.secrets, profile);
      for (const kind of STATIC_KEY_KINDS) session.redactor.add(staticKeys[kind]);
      const proxyCredentials = await this.proxyCredentials(session);
      if (proxyCredentials === 'unanswered') return;
      session.redactor.add(proxyCredentials?.password ?? null);
      const credentials = await this.credentialsForConnect(session, signal);
      if (signal.aborted) return;
      const config = buildEngineConfig(
        profile,
        { key, credentials, staticKeys, proxyCredentials },
        { killSwitch: profile.killSwitch || session.killSwitchOverride, allowLan: profile.allowLan, guiVersion: this.options.guiVersion ?? 'causeway 0.1.0' },
      );
      let helper: HelperConnection;
      try {
        helper = await this.ensureHelper();
      } catch (e) {
        if (!signal.aborted) this.fail(session, 'helper-unavailable', (e as Error).message);
        return;
      }
      if (signal.aborted || !isActive(session.state) || session.state.phase === 'disconnecting') return;
      session.helperSession = helperSession;
      this.byHelperSession.set(helperSession, session);
      const protection = config.killSwitch ? ` (kill switch on, LAN ${config.allowLan ? 'allowed' : 'blocked'})` : '';
      this.note(session, `connecting (attempt ${session.attempt}) to ${profile.remotes.map((r) => `${r.host}:${r.port}/${r.proto}`).join(', ')}${protection}`);
      try {
        helper.channel.send({ type: 'connect', session: helperSession, config });
      } catch (e) {
        this.fail(session, 'helper-unavailable', (e as Error).message);
      }
    } catch (e) {
      if (signal.aborted) return;
      if (e instanceof ProfileUnusableError) this.fail(session, 'profile-invalid', e.message);
      else if (e instanceof SignInError) this.fail(session, 'sign-in-failed', e.message);
      else this.fail(session, 'internal', (e as Error).message);
    }
  }

  /**
   * The proxy's username and password: saved at import, or, for a profile that asks for them,
   * this session's, the secret store's (remembered before) or asked for now. 'unanswered': the
   * prompt was cancelled or timed out, and the session has failed.
   */
  private async proxyCredentials(session: Session): Promise<ProxyCredentials | null | 'unanswered'> {
    const proxy = session.profile.proxy;
    if (!proxy?.askCredentials || session.proxyCredentials) {
      return session.proxyCredentials?.credentials ?? (await readProxyCredentials(this.options.secrets, session.profile));
    }
    const saved = await readProxyCredentials(this.options.secrets, session.profile);
    if (saved) {
      session.proxyCredentials = { credentials: saved, remember: false };
      return saved;
    }
    const answer = await this.ask(session, {
      kind: 'proxy-password',
      ...this.promptBase(session),
      proxy: `${proxy.host}:${proxy.port}`,
      username: null,
      canRemember: this.options.secrets.persistent,
      retryReason: null,
    });
    if (answer?.kind !== 'proxy-password') return 'unanswered';
    const credentials = { username: answer.username, password: answer.password };
    session.redactor.add(credentials.password);
    session.proxyCredentials = { credentials, remember: answer.remember };
    return credentials;
  }

  /** Credentials to send with `connect`, when they are known without asking. */
  private async credentialsForConnect(session: Session, signal: AbortSignal): Promise<Credentials | null> {
    const profile = session.profile;
    const flows = this.options.loginFlows;
    if (flows?.credentialsBeforeConnect) {
      let c: Credentials | null;
      try {
        c = await flows.credentialsBeforeConnect(this.loginContext(session, signal));
      } catch (e) {
        throw new SignInError((e as Error).message);
      }
      if (c) {
        session.redactor.add(c.password);
        return c;
      }
    }
    if (profile.auth.kind === 'aws-saml') {
      throw new ProfileUnusableError('this profile signs in through the browser (AWS SAML), which is not available here');
    }
    if (!profile.auth.userPass || profile.auth.staticChallenge) return null;
    return this.currentOrSavedCredentials(session);
  }

  /** The credentials this session has, else the keyring's (which then become the session's). */
  private async currentOrSavedCredentials(session: Session): Promise<Credentials | null> {
    const current = credentialsOf(session.credentials);
    if (current) return current;
    const saved = await this.savedCredentials(session);
    if (saved) session.credentials = { kind: 'saved', credentials: saved };
    return saved;
  }

  private async savedCredentials(session: Session): Promise<Credentials | null> {
    if (session.savedRejected) return null;
    const id = session.profile.id;
    const password = await this.options.secrets.get(passwordAccount(id));
    if (password === null) return null;
    session.redactor.add(password);
    const username = session.profile.auth.username ?? (await this.options.secrets.get(usernameAccount(id)));
    if (username === null) return null;
    return { username, password };
  }

  private loginContext(session: Session, signal: AbortSignal): LoginContext {
    return {
      profile: session.profile,
      sessionId: session.id,
      secrets: this.options.secrets,
      signal,
      addSecret: (s) => session.redactor.add(s),
      log: (text) => this.note(session, text),
    };
  }

  private ensureHelper(): Promise<HelperConnection> {
    if (this.helper) return this.helper;
    const pending = this.options.connectHelper().then(
      (h) => {
        h.channel.onMessage((m) => this.onHelperMessage(m));
        h.channel.onClose((reason) => this.onHelperGone(pending, reason));
        return h;
      },
      (e: Error) => {
        if (this.helper === pending) this.helper = null;
        throw e;
      },
    );
    this.helper = pending;
    return pending;
  }

  /** Ends the current attempt: cancel prompts and timers, tell the helper, forget the route. */
  private endAttempt(session: Session, tellHelper: boolean): void {
    session.abort.abort();
    session.clearTimers();
    const hs = session.helperSession;
    if (hs && tellHelper && this.helper) {
      void this.helper.then((h) => {
        if (h.channel.closed === null) h.channel.send({ type: 'disconnect', session: hs });
      }).catch(() => undefined);
    }
    if (!tellHelper && hs) {
      this.byHelperSession.delete(hs);
      session.helperSession = null;
    }
  }

  private fail(session: Session, reason: FailureReason, detail: string | null): void {
    this.endAttempt(session, true);
    if (session.helperSession) this.byHelperSession.delete(session.helperSession);
    session.helperSession = null;
    this.note(session, `failed: ${reason}${detail ? ` (${detail})` : ''}`);
    this.apply(session, { type: 'fail', reason, detail });
  }

  // ---- helper messages ----

  private onHelperMessage(m: HelperMessage): void {
    if (m.type === 'hello' || m.type === 'statusReply') return;
    if (m.session === null) return; // helper-wide log/error lines: not about a session
    const session = this.byHelperSession.get(m.session);
    if (!session) return; // an attempt we already left behind
    switch (m.type) {
      case 'state':
        return this.onState(session, m);
      case 'needCredentials':
        return void this.onNeedCredentials(session, m);
      case 'authPending':
        return void this.onAuthPending(session, m);
      case 'pushed':
        session.pushed = m.settings;
        this.note(session, `pushed: address ${m.settings.ipv4 ? `${m.settings.ipv4.address}/${m.settings.ipv4.prefix}` : 'none'}, routes ${m.settings.routes.join(' ') || 'none'}, DNS ${m.settings.dns.servers.join(' ') || 'none'}`);
        this.scheduleExpiryNotice(session, m.settings.sessionTimeoutSec);
        return this.emit({ type: 'pushed', sessionId: session.id, settings: m.settings });
      case 'echo':
        session.banner.push(m.text);
        this.note(session, `server message: ${m.text}`);
        return this.emit({ type: 'banner', sessionId: session.id, text: session.redactor.redact(m.text) });
      case 'stats':
        session.stats = { ...session.stats, rxBytes: m.rxBytes, txBytes: m.txBytes };
        return this.emit({ type: 'stats', sessionId: session.id, stats: { ...session.stats } });
      case 'log':
        return this.record(session, 'helper', m.level, m.text);
      case 'routeRemoved':
        return this.notice(session, `Removed a route the local network added that would take tunnel traffic outside the tunnel: ${describeRoute(m)}`);
      case 'error':
        this.record(session, 'helper', 'error', `${m.code}: ${m.message}`);
        if (m.code === 'unknown-session') return; // e.g. a disconnect racing the session's own end
        return this.onState(session, { type: 'state', session: m.session, phase: 'failed', remote: null, error: { code: m.code, message: m.message } });
    }
  }

  private onState(session: Session, m: Extract<HelperMessage, { type: 'state' }>): void {
    const { phase, error } = m;
    this.record(session, 'helper', 'info', `state ${phase}${error ? ` (${error.code}: ${error.message})` : ''}`);
    if (phase === 'failed' || phase === 'disconnected') {
      // This attempt is over in the helper.
      if (session.helperSession) this.byHelperSession.delete(session.helperSession);
      session.helperSession = null;
      session.abort.abort();
    }
    if (phase === 'failed' && session.state.phase !== 'disconnecting' && error) {
      if (error.code === 'auth-failed' && this.retryAuth(session, error.message)) return;
      if (error.code === 'proxy-auth-failed') this.forgetProxyCredentials(session);
      if (error.code === 'session-expired') {
        this.notice(session, 'The server ended the session because its time limit was reached.');
        if (this.canReconnectUnattended(session) && this.policy.reconnectOnSessionExpiry) {
          session.clearTimers();
          session.retryPending = true; // the 'failed' snapshot says a new attempt follows at once
          this.apply(session, this.helperEvent(m));
          this.notice(session, 'Reconnecting without asking, as this profile allows.');
          this.start(session);
          return;
        }
      }
    }
    if (phase === 'connected') this.onConnected(session);
    if (phase === 'reconnecting') this.watchReconnect(session);
    this.apply(session, this.helperEvent(m));
    if (session.state.phase === 'idle' || session.state.phase === 'failed') session.clearTimers();
  }

  private helperEvent(m: Extract<HelperMessage, { type: 'state' }>): ConnectionEvent {
    return { type: 'helper-state', phase: m.phase, remote: m.remote, error: m.error, at: this.now() };
  }

  private onConnected(session: Session): void {
    this.options.loginFlows?.connected?.(session.id);
    if (session.reconnectTimer) clearTimeout(session.reconnectTimer);
    session.reconnectTimer = null;
    session.stats = { ...session.stats, connectedSince: session.stats.connectedSince ?? this.now() };
    // helperRetries is not reset here: a helper that crashes after every connect must not loop.
    session.authRetries = 0;
    this.rememberProxyCredentials(session);
    const state = session.credentials;
    const remember = state.kind === 'typed' && state.remember ? state.credentials : null;
    if (state.kind === 'typed') session.credentials = { ...state, remember: false };
    if (state.kind === 'none') session.credentials = { ...state, refused: null };
    if (session.profile.auth.noCache) session.credentials = noCredentials(usernameOf(state));
    if (remember && this.options.secrets.persistent) {
      const id = session.profile.id;
      void Promise.all([
        this.options.secrets.set(passwordAccount(id), remember.password),
        this.options.secrets.set(usernameAccount(id), remember.username),
      ]).then(
        () => this.note(session, `password saved in the ${this.options.secrets.backend} keyring`),
        (e: Error) => this.notice(session, `The password could not be saved: ${e.message}`),
      );
    }
  }

  /** The proxy refused asked-for credentials: the next connect asks again instead of sending them. */
  private forgetProxyCredentials(session: Session): void {
    if (!session.profile.proxy?.askCredentials) return;
    session.proxyCredentials = null;
    void this.options.secrets.delete(proxyCredentialsAccount(session.profile.id)).catch((e: Error) => this.notice(session, `The refused proxy password could not be removed: ${e.message}`));
  }

  /** Proxy credentials typed with "remember" go to the secret store once a connection through the proxy worked. */
  private rememberProxyCredentials(session: Session): void {
    const typed = session.proxyCredentials;
    if (!typed?.remember || !this.options.secrets.persistent) return;
    session.proxyCredentials = { ...typed, remember: false };
    void this.options.secrets.set(proxyCredentialsAccount(session.profile.id), JSON.stringify(typed.credentials)).then(
      () => this.note(session, `proxy password saved in the ${this.options.secrets.backend} secret store`),
      (e: Error) => this.notice(session, `The proxy password could not be saved: ${e.message}`),
    );
  }

  private watchReconnect(session: Session): void {
    session.stats = { ...session.stats, connectedSince: null };
    if (session.reconnectTimer) return;
    session.reconnectTimer = setTimeout(() => {
      session.reconnectTimer = null;
      if (session.state.phase !== 'reconnecting') return;
      const seconds = Math.round(this.policy.maxReconnectMs / 1000);
      this.notice(session, `No connection for ${seconds} s; giving up.`);
      this.fail(session, 'server-unreachable', `no connection for ${seconds} s`);
    }, this.policy.maxReconnectMs);
  }

  /** auth-retry semantics. Returns true when another attempt was started. */
  private retryAuth(session: Session, message: string): boolean {
    if (session.credentials.kind === 'saved' && !session.savedRejected && session.profile.auth.kind !== 'aws-saml') {
      // A saved password went stale (changed elsewhere): ask once, whatever auth-retry says;
      // the user typing a new one is no retry storm.
      session.savedRejected = true;
      session.credentials = noCredentials(usernameOf(session.credentials), `The server rejected the saved password (${message}).`);
      this.note(session, 'the saved password was rejected; asking for it');
      void this.attempt(session);
      return true;
    }
    // OIDC: after the tunnel was up, a refused token has most likely expired; one new attempt
    // renews it (refresh token, else the browser) whatever auth-retry says.
    if (session.profile.oidc && session.pushed !== null && session.authRetries === 0) {
      session.authRetries++;
      this.note(session, 'the server refused the sign-in token; renewing it');
      void this.attempt(session);
      return true;
    }
    const mode = session.profile.auth.retry;
    if (mode === 'none' || session.authRetries >= this.policy.authRetries) return false;
    // AWS SAML, before the tunnel was ever up: the refused assertion was fresh and single-use, so
    // the endpoint's refusal (e.g. its client connect handler's text) is the answer to show.
    // After it was up, the refusal is of a stale auth-token: one new attempt runs a fresh browser
    // login (main/auth refuses to open a second tab if that assertion is refused too).
    if (session.profile.auth.kind === 'aws-saml' && session.pushed === null) return false;
    session.authRetries++;
    if (session.credentials.kind === 'typed') session.credentials = { ...session.credentials, remember: false };
    if (session.profile.auth.kind === 'aws-saml') {
      this.note(session, `the endpoint no longer accepts this session; signing in again (${session.authRetries}/${this.policy.authRetries})`);
      void this.attempt(session);
      return true;
    }
    if (mode === 'interact') {
      // Ask again; a saved password that was just rejected is not offered again.
      session.credentials = noCredentials(usernameOf(session.credentials), `The server rejected the credentials (${message}).`);
      session.savedRejected = true;
      this.note(session, `authentication failed; asking again (${session.authRetries}/${this.policy.authRetries})`);
      void this.attempt(session);
      return true;
    }
    if (credentialsOf(session.credentials) === null) return false; // nothing to retry with
    this.note(session, `authentication failed; retrying the same credentials (${session.authRetries}/${this.policy.authRetries})`);
    const t = setTimeout(() => {
      session.timers.delete(t);
      if (isActive(session.state) && session.state.phase !== 'disconnecting') void this.attempt(session);
    }, this.policy.authRetryDelayMs);
    session.timers.add(t);
    return true;
  }

  /** A new attempt can run without a prompt or a browser. */
  private canReconnectUnattended(session: Session): boolean {
    const p = session.profile;
    if (p.auth.kind === 'aws-saml' || p.auth.staticChallenge) return false;
    if (!p.auth.userPass) return true;
    return credentialsOf(session.credentials) !== null && !p.auth.noCache;
  }

  private async onNeedCredentials(session: Session, m: Extract<HelperMessage, { type: 'needCredentials' }>): Promise<void> {
    const channelSession = m.session;
    const signal = session.abort.signal;
    if (m.kind === 'crv1') {
      let response: string | null = null;
      const flows = this.options.loginFlows;
      if (session.profile.isAws && flows?.answerCrv1) {
        this.apply(session, { type: 'prompt', waiting: 'browser' });
        try {
          response = await flows.answerCrv1(this.loginContext(session, signal), { text: m.challenge ?? '', username: m.username });
        } catch (e) {
          if (!signal.aborted) this.fail(session, 'sign-in-failed', (e as Error).message);
          return;
        }
      }
      if (response === null) {
        const answer = await this.ask(session, {
          kind: 'challenge',
          ...this.promptBase(session),
          text: m.challenge ?? '',
          echo: m.echo,
        });
        if (answer?.kind !== 'challenge') return;
        response = answer.response;
      } else {
        this.apply(session, { type: 'answered' });
      }
      session.redactor.add(response);
      this.sendIfCurrent(session, channelSession, { type: 'credentials', session: channelSession, username: m.username, password: null, response });
      return;
    }

    // password / static-challenge
    const refused = session.credentials.kind === 'none' ? session.credentials.refused : null;
    const ready = m.kind === 'password' && refused === null ? await this.currentOrSavedCredentials(session) : null;
    if (ready) {
      this.sendIfCurrent(session, channelSession, { type: 'credentials', session: channelSession, username: ready.username, password: ready.password, response: null });
      return;
    }
    // A static challenge needs a fresh one-time code every time, but not the password again when
    // this session already has it (reconnect) or the keyring does.
    const known = m.kind === 'static-challenge' && refused === null ? await this.currentOrSavedCredentials(session) : null;
    const answer = await this.ask(session, {
      kind: 'credentials',
      ...this.promptBase(session),
      username: known?.username ?? usernameOf(session.credentials) ?? m.username ?? session.profile.auth.username,
      askPassword: known === null,
      challenge: m.kind === 'static-challenge' ? { text: m.challenge ?? '', echo: m.echo } : null,
      canRemember: this.options.secrets.persistent && !session.profile.auth.noCache,
      retryReason: refused,
    });
    if (answer?.kind !== 'credentials') return;
    const credentials = { username: known?.username ?? answer.username, password: known?.password ?? answer.password };
    session.redactor.add(credentials.password);
    session.redactor.add(answer.response);
    // Typed just now, or (static challenge) the password this session already had.
    if (known === null) session.credentials = { kind: 'typed', credentials, remember: answer.remember };
    else if (session.credentials.kind === 'typed' && answer.remember) session.credentials = { ...session.credentials, remember: true };
    this.sendIfCurrent(session, channelSession, {
      type: 'credentials',
      session: channelSession,
      username: credentials.username,
      password: credentials.password,
      response: m.kind === 'static-challenge' ? (answer.response ?? '') : null,
    });
  }

  private async onAuthPending(session: Session, m: Extract<HelperMessage, { type: 'authPending' }>): Promise<void> {
    const signal = session.abort.signal;
    if (m.method === 'crtext') {
      const answer = await this.ask(session, { kind: 'challenge', ...this.promptBase(session), text: m.payload, echo: m.echo });
      if (answer?.kind !== 'challenge') return;
      session.redactor.add(answer.response);
      this.sendIfCurrent(session, m.session, { type: 'crResponse', session: m.session, response: answer.response });
      return;
    }
    let url: string;
    try {
      url = checkOpenableUrl(webAuthUrl(m.payload)).href;
    } catch (e) {
      this.fail(session, 'protocol-error', (e as Error).message);
      return;
    }
    this.apply(session, { type: 'prompt', waiting: 'browser' });
    this.note(session, `opening the sign-in page at ${new URL(url).host}`);
    try {
      const flows = this.options.loginFlows;
      if (flows?.openAuthUrl) await flows.openAuthUrl(this.loginContext(session, signal), url, m.timeoutSec);
      else if (this.options.openUrl) await this.options.openUrl(url);
      else throw new Error('no browser is available to sign in');
    } catch (e) {
      if (!signal.aborted) this.fail(session, 'sign-in-failed', (e as Error).message);
    }
  }

  private promptBase(session: Session) {
    return {
      id: randomBytes(8).toString('hex'),
      sessionId: session.id,
      profileId: session.profile.id,
      profileName: session.profile.name,
      timeoutMs: this.policy.promptTimeoutMs,
    };
  }

  /** Asks the user; on timeout or cancel the session fails and null is returned. */
  private async ask(session: Session, request: PromptRequest): Promise<PromptAnswer | null> {
    this.apply(session, { type: 'prompt', waiting: request.kind === 'challenge' ? 'challenge' : 'credentials' });
    const outcome = await askWithDeadline(this.options.prompter, request, session.abort.signal);
    switch (outcome.kind) {
      case 'answered':
        this.apply(session, { type: 'answered' });
        return outcome.answer;
      case 'timeout':
        this.fail(session, 'prompt-timeout', outcome.detail);
        return null;
      case 'cancelled':
        this.fail(session, 'cancelled', outcome.detail);
        return null;
      case 'ended':
        return null;
    }
  }

  private sendIfCurrent(session: Session, helperSession: string, message: Parameters<HelperConnection['channel']['send']>[0]): void {
    if (session.helperSession !== helperSession || !this.helper) return;
    void this.helper.then((h) => h.channel.send(message)).catch((e: Error) => this.fail(session, 'helper-unavailable', e.message));
  }

  private onHelperGone(which: Promise<HelperConnection>, reason: string): void {
    if (this.helper === which) this.helper = null;
    for (const session of this.sessions.values()) {
      // Sessions still starting have no helper session; their send fails on the closed channel.
      if (!session.helperSession || !isActive(session.state)) continue;
      this.byHelperSession.delete(session.helperSession);
      session.helperSession = null;
      const wasDisconnecting = session.state.phase === 'disconnecting';
      // Decide on a retry first, so the 'failed' event already says whether one follows.
      const retry = !wasDisconnecting && !this.closing && this.canReconnectUnattended(session) && session.helperRetries < this.policy.helperRetries;
      session.retryPending = retry;
      this.fail(session, 'helper-unavailable', reason);
      if (retry) {
        const delay = this.policy.helperRetryBaseMs * 2 ** session.helperRetries;
        session.helperRetries++;
        session.retryPending = true;
        this.notice(session, `The helper stopped (${reason}); trying again in ${Math.round(delay / 1000)} s.`);
        const t = setTimeout(() => {
          session.timers.delete(t);
          if (session.state.phase === 'failed' && !this.closing) {
            const retries = session.helperRetries;
            this.start(session);
            session.helperRetries = retries;
          }
        }, delay);
        session.timers.add(t);
      }
    }
  }

  private scheduleExpiryNotice(session: Session, timeoutSec: number | null): void {
    if (timeoutSec === null) return;
    const warnIn = Math.max(0, timeoutSec - this.policy.sessionExpiryWarningSec) * 1000;
    const minutes = Math.round(Math.min(timeoutSec, this.policy.sessionExpiryWarningSec) / 60);
    this.notice(session, `The server will end this session in ${formatDuration(timeoutSec)}.`);
    const t = setTimeout(() => {
      session.timers.delete(t);
      if (session.state.phase === 'connected') {
        this.notice(session, `The server will end this session in about ${minutes} minute${minutes === 1 ? '' : 's'}.`);
      }
    }, warnIn);
    session.timers.add(t);
  }

  // ---- state and events ----

  /** Applies an event to a session's state machine; returns false when it was not allowed. */
  private apply(session: Session, event: ConnectionEvent): boolean {
    const next = transition(session.state, event);
    if (next === null) {
      this.note(session, `ignored ${event.type}${'phase' in event ? ` ${event.phase}` : ''} while ${session.state.phase}`, 'debug');
      return false;
    }
    const changed = JSON.stringify(next) !== JSON.stringify(session.state);
    session.state = next;
    if (next.phase !== 'connected' && next.phase !== 'reconnecting') {
      session.stats = { ...session.stats, connectedSince: null };
    }
    if (changed) this.emit({ type: 'state', session: session.snapshot() });
    if (next.phase === 'idle' || next.phase === 'failed') {
      if (changed) this.options.loginFlows?.ended?.(session.id);
      for (const resolve of session.idle.splice(0)) resolve();
    }
    return true;
  }

  private note(session: Session, text: string, level = 'info'): void {
    this.record(session, 'causeway', level, text);
  }

  private record(session: Session, source: 'causeway' | 'helper', level: string, text: string): void {
    const line = session.log.write(source, level, text);
    this.emit({ type: 'log', sessionId: session.id, line });
  }

  private notice(session: Session, text: string): void {
    this.note(session, text);
    this.emit({ type: 'notice', sessionId: session.id, text });
  }

  private emit(e: ManagerEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // A faulty listener must not break the session.
      }
    }
  }

  private find(profileIdOrName: string): Session | undefined {
    const direct = this.sessions.get(profileIdOrName);
    if (direct) return direct;
    for (const s of this.sessions.values()) {
      if (s.id === profileIdOrName || s.profile.name === profileIdOrName) return s;
    }
    try {
      return this.sessions.get(this.options.profiles.resolve(profileIdOrName).id);
    } catch {
      return undefined;
    }
  }

}

function formatDuration(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} minutes`;
  return `${Math.round(seconds / 360) / 10} hours`;
}

/** A route as `ip route` prints it: "192.0.2.0/24 via 10.99.0.1 dev eth0". */
function describeRoute(r: Extract<HelperMessage, { type: 'routeRemoved' }>): string {
  return [r.destination, r.gateway && `via ${r.gateway}`, r.device && `dev ${r.device}`].filter(Boolean).join(' ');
}
