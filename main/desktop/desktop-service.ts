// The desktop app's side of the IPC schema: implements every call on top of main's core
// (profiles, connections, secrets, certificates) and turns the core's events into the events
// the renderer listens to. Electron-free: main.ts runs it in Electron, the e2e tests run the very
// same service in plain Node with the renderer in Chromium.
import type { CausewayService, EventSink } from '../../app/ipc/handlers';
import { UserFacingError } from '../../app/ipc/handlers';
import type {
  AppSnapshot,
  Banner,
  CertSummary,
  ConnectionView,
  ImportVerdict,
  LogLine,
  LogLevel,
  OidcSettingsInput,
  ProfileDetails,
  Settings,
  TrafficStats,
} from '../../app/ipc/types';
import { isActive } from '../../app/connection/state';
import type { PushedSettings } from '../../app/helper-protocol/messages';
import type { LeakProtection, Profile, ProfileIssue } from '../../app/profile';
import { OidcSettingsError, parseOidcSettings, refreshTokenAccount, type OidcSettings } from '../auth/oidc-settings';
import type { ManagerEvent, SessionSnapshot } from '../connection/manager';
import type { AskKeyPassphrase } from '../profiles/importer';
import type { SecretStore } from '../secrets/secret-store';
import { PromptBroker } from './prompt-broker';
import { SecretPromptBroker } from './secret-prompt-broker';
import type { SettingsStore } from './settings-store';
import { connectionView, importVerdict, profileSummary } from './views';

/** The parts of main's core the desktop app uses (main/core.ts provides them). */
export interface DesktopCore {
  profiles: {
    list(): { profiles: Profile[] };
    resolve(idOrName: string): Profile;
    rename(idOrName: string, newName: string): Profile;
    remove(idOrName: string): Promise<Profile>;
    /** Rewrites a stored profile (here: its single sign-on settings). */
    replace(profile: Profile): Profile;
    setLeakProtection(idOrName: string, change: Partial<LeakProtection>): Profile;
  };
  /**
   * Imports profile text the user chose; file references cannot be resolved from bytes alone.
   * A locked key's passphrase is asked with `askPassphrase`.
   */
  importProfile(bytes: Uint8Array, name: string, askPassphrase: AskKeyPassphrase): Promise<ImportOutcome>;
  /** Imports a file main's own open dialog returned; references are read from its folder. */
  importProfileFile(path: string, askPassphrase: AskKeyPassphrase): Promise<ImportOutcome>;
  connections: {
    on(listener: (e: ManagerEvent) => void): () => void;
    get(profileIdOrName: string): SessionSnapshot | null;
    connect(profileIdOrName: string): SessionSnapshot;
    disconnect(profileIdOrName: string): Promise<void>;
  };
  secrets: SecretStore;
  /** Saved-password account of a profile in the SecretStore. */
  passwordAccount(profileId: string): string;
  certs: DesktopCerts | null;
  /** The profile's stored, redacted log lines (this and earlier runs), oldest first. */
  readLog(profileId: string): string[];
}

export interface DesktopCerts {
  list(): Promise<CertSummary[]>;
  importPkcs12(bytes: Uint8Array, password: string, name: string): Promise<CertSummary>;
  remove(id: string): Promise<void>;
  attach(certId: string, profileId: string): Promise<void>;
  forProfile(profileId: string): Promise<CertSummary | null>;
}

export interface ImportOutcome {
  ok: boolean;
  profile: Profile | null;
  warnings: ProfileIssue[];
  errors: ProfileIssue[];
}

/** What the Electron shell watches (tray, notifications). */
export type ShellEvent =
  | { type: 'connection'; profileId: string; profileName: string; previous: ConnectionView; view: ConnectionView }
  | { type: 'profiles' };

export interface DesktopServiceOptions {
  settings: SettingsStore;
  /** Opens an https (or loopback http) URL in the user's browser. */
  openUrl(url: string): Promise<void>;
  version: string;
  /** Where unexpected errors go (the app log); never shown to the renderer. */
  logError(context: string, err: unknown): void;
  now?: () => number;
}

const MAX_LOG_LINES = 2000;
const LOG_LINE = /^(\S+) (?:causeway|helper) (error|warn|info|debug): (.*)$/s;

function userError(err: unknown, fallback: string): UserFacingError {
  if (err instanceof UserFacingError) return err;
  const message = err instanceof Error && err.message ? err.message : fallback;
  // Core errors are written for people ("profile \"x\" is already connecting"); start them with a capital.
  return new UserFacingError('refused', message[0]!.toUpperCase() + message.slice(1));
}

export class DesktopService {
  readonly prompts: PromptBroker;
  private core: DesktopCore | null = null;
  private sink: EventSink = () => {};
  /** Secrets asked outside any connection: the passphrase of a key being imported. */
  readonly secretPrompts = new SecretPromptBroker(
    (view) => this.sink('secretPrompt', view),
    (id) => this.sink('secretPromptClosed', { id }),
  );
  private readonly shellListeners = new Set<(e: ShellEvent) => void>();
  private readonly views = new Map<string, ConnectionView>();
  private readonly stats = new Map<string, TrafficStats>();
  private readonly pushed = new Map<string, PushedSettings>();
  private readonly sessionProfile = new Map<string, string>();
  private readonly banners = new Map<string, Banner>();
  /** The connection attempt each banner came from. */
  private readonly bannerAttempt = new Map<string, string | undefined>();
  private readonly logs = new Map<string, (LogLine & { raw: string })[]>();
  /** One log group per connection attempt, so the Logs view can show sessions apart. */
  private readonly logGroup = new Map<string, string>();
  /** Login pages opened per profile, for "Open the login page again". Never logged. */
  private readonly loginUrls = new Map<string, string>();
  private bannerSeq = 0;
  private attemptSeq = 0;
  private readonly now: () => number;

  constructor(private readonly options: DesktopServiceOptions) {
    this.now = options.now ?? Date.now;
    this.prompts = new PromptBroker(
      (view) => {
        this.sink('prompt', view);
        this.refreshView(view.profileId);
      },
      (id, profileId) => {
        this.sink('promptClosed', { id });
        this.refreshView(profileId);
      },
    );
  }

  /**
   * The importer's question for a locked key's passphrase, asked in the renderer's secret dialog.
   * Bytes from the renderer come without a file name: the dialog then names the profile.
   */
  private askKeyPassphrase(profileName: string | null): AskKeyPassphrase {
    return ({ locked, wrong, fileName }) =>
      this.secretPrompts.ask({ kind: locked === 'key' ? 'key-passphrase' : 'pkcs12-password', subject: fileName ?? profileName, retry: wrong });
  }

  /** The opener to give the core: remembers which profile's login page it opened. */
  readonly openLoginUrl = async (url: string): Promise<void> => {
    const waiting = this.core ? [...this.views.entries()].filter(([, v]) => v.phase === 'connecting' || v.phase === 'waiting-browser') : [];
    await this.options.openUrl(url);
    if (waiting.length === 1) {
      this.loginUrls.set(waiting[0]![0], url);
      this.refreshView(waiting[0]![0]);
    }
  };

  attach(core: DesktopCore): () => void {
    this.core = core;
    for (const p of core.profiles.list().profiles) {
      const s = core.connections.get(p.id);
      if (s) this.onState(s);
    }
    return core.connections.on((e) => this.onManagerEvent(e));
  }

  setSink(sink: EventSink): void {
    this.sink = sink;
  }

  observe(listener: (e: ShellEvent) => void): () => void {
    this.shellListeners.add(listener);
    return () => this.shellListeners.delete(listener);
  }

  private get c(): DesktopCore {
    if (!this.core) throw new UserFacingError('starting', 'Causeway is still starting. Try again in a moment.');
    return this.core;
  }

  private shell(e: ShellEvent): void {
    for (const l of this.shellListeners) l(e);
  }

  private profile(id: string): Profile {
    try {
      return this.c.profiles.resolve(id);
    } catch {
      throw new UserFacingError('no-such-profile', 'That profile no longer exists.');
    }
  }

  view(profileId: string): ConnectionView {
    return this.views.get(profileId) ?? { phase: 'idle' };
  }

  profiles(): Profile[] {
    return this.core ? this.core.profiles.list().profiles : [];
  }

  // ---- events from the core ----

  private onManagerEvent(e: ManagerEvent): void {
    if (e.type === 'state') return this.onState(e.session);
    const profileId = this.sessionProfile.get(e.sessionId);
    if (!profileId) return;
    switch (e.type) {
      case 'stats': {
        const stats = { profileId, rxBytes: e.stats.rxBytes, txBytes: e.stats.txBytes };
        this.stats.set(profileId, stats);
        return this.sink('stats', stats);
      }
      case 'pushed':
        this.pushed.set(profileId, e.settings);
        return this.refreshView(profileId);
      case 'banner':
        return this.addBanner(profileId, 'server-message', e.text);
      case 'notice':
        // The manager's notices are plain text; the session-timeout ones become acknowledged notices.
        if (e.text.startsWith('The server will end this session')) return this.addBanner(profileId, 'session-ending', e.text);
        if (e.text.startsWith('The server ended the session')) return this.addBanner(profileId, 'session-ended', e.text);
        return;
      case 'log':
        return this.addLog(profileId, e.line);
    }
  }

  private onState(s: SessionSnapshot): void {
    this.sessionProfile.set(s.id, s.profileId);
    const before = this.view(s.profileId);
    if (s.state.phase === 'resolving' && (before.phase === 'idle' || before.phase === 'failed')) {
      this.logGroup.set(s.profileId, `${s.id}-${++this.attemptSeq}`);
    }
    if (!isActive(s.state) || s.state.phase === 'connected') this.loginUrls.delete(s.profileId);
    if (s.pushed) this.pushed.set(s.profileId, s.pushed);
    if (!isActive(s.state)) this.pushed.delete(s.profileId);
    const stats = { profileId: s.profileId, rxBytes: s.stats.rxBytes, txBytes: s.stats.txBytes };
    this.stats.set(s.profileId, stats);
    this.refreshView(s.profileId, s);
    // The counters start with the tunnel, before the helper's first stats report.
    if (s.state.phase === 'connected') this.sink('stats', stats);
  }

  private refreshView(profileId: string, snapshot?: SessionSnapshot): void {
    const s = snapshot ?? this.core?.connections.get(profileId);
    if (!s) return;
    const prompt = this.prompts.forProfile(profileId);
    const view = connectionView(s.state, {
      pushed: this.pushed.get(profileId) ?? null,
      prompt: prompt ? { id: prompt.id, kind: prompt.kind } : null,
      canReopen: this.loginUrls.has(profileId),
    });
    const previous = this.view(profileId);
    if (JSON.stringify(previous) === JSON.stringify(view)) return;
    this.views.set(profileId, view);
    this.sink('connection', { profileId, view });
    this.shell({ type: 'connection', profileId, profileName: s.profileName, previous, view });
  }

  private addBanner(profileId: string, kind: Banner['kind'], text: string): void {
    // Servers send a multi-line banner as one `echo` per line: while the user has not yet
    // acknowledged this connection's message, further lines join it instead of queueing dialogs.
    const open = [...this.banners.values()].find((b) => b.profileId === profileId && b.kind === 'server-message');
    if (kind === 'server-message' && open && this.bannerAttempt.get(open.id) === this.logGroup.get(profileId)) {
      const joined = { ...open, text: `${open.text}\n${text}` };
      this.banners.set(open.id, joined);
      this.sink('banner', joined);
      return;
    }
    const profileName = this.core?.connections.get(profileId)?.profileName ?? profileId;
    const banner: Banner = { id: `banner-${++this.bannerSeq}`, profileId, profileName, kind, text, at: new Date(this.now()).toISOString() };
    this.banners.set(banner.id, banner);
    this.bannerAttempt.set(banner.id, this.logGroup.get(profileId));
    this.sink('banner', banner);
  }

  private logLine(profileId: string, sessionId: string, line: string): LogLine {
    const m = LOG_LINE.exec(line);
    return {
      profileId,
      sessionId,
      at: m?.[1] ?? new Date(this.now()).toISOString(),
      level: (m?.[2] as LogLevel | undefined) ?? 'info',
      text: m?.[3] ?? line,
    };
  }

  private addLog(profileId: string, line: string): void {
    const entry = this.logLine(profileId, this.logGroup.get(profileId) ?? profileId, line);
    const lines = this.logs.get(profileId) ?? [];
    lines.push({ ...entry, raw: line });
    if (lines.length > MAX_LOG_LINES) lines.shift();
    this.logs.set(profileId, lines);
    this.sink('log', entry);
  }

  /**
   * Lines stored by earlier runs (or the CLI), split into sessions where the manager logged the
   * first attempt of a connection ("connecting (attempt 1) …").
   */
  private earlierSessions(profileId: string, lines: string[]): LogLine[] {
    let group = 0;
    return lines.slice(-MAX_LOG_LINES).map((raw, i) => {
      const line = this.logLine(profileId, '', raw);
      if (i > 0 && line.text.startsWith('connecting (attempt 1)')) group++;
      return { ...line, sessionId: `earlier-${group}` };
    });
  }

  private async pushSnapshot(): Promise<void> {
    this.sink('snapshot', await this.snapshot());
    this.shell({ type: 'profiles' });
  }

  private async snapshot(): Promise<AppSnapshot> {
    const profiles = this.profiles();
    const connections: Record<string, ConnectionView> = {};
    const stats: Record<string, TrafficStats> = {};
    for (const p of profiles) {
      connections[p.id] = this.view(p.id);
      const st = this.stats.get(p.id);
      if (st) stats[p.id] = st;
    }
    const secrets = this.core?.secrets;
    return {
      profiles: profiles.map((p) => profileSummary(p, this.now())),
      connections,
      stats,
      prompts: this.prompts.pending(),
      secretPrompts: this.secretPrompts.pending(),
      banners: [...this.banners.values()],
      certs: this.core?.certs ? await this.core.certs.list() : [],
      settings: this.options.settings.get(),
      environment: {
        version: this.options.version,
        secretBackend: secrets?.backend ?? 'memory',
        secretsPersistent: secrets?.persistent ?? false,
        secretsReason: secrets?.reason ?? null,
      },
    };
  }

  /** Validates typed settings with the importer's rules (https issuer, claim syntax, defaults). */
  private oidcSettings(input: OidcSettingsInput): OidcSettings {
    try {
      return parseOidcSettings(input);
    } catch (err) {
      if (!(err instanceof OidcSettingsError)) throw err;
      // The shared messages name the CLI option too ("(--oidc-issuer)"); the form has labelled fields instead.
      throw new UserFacingError('invalid-oidc', err.message.replace(/ \(--[a-z-]+\)/, ''));
    }
  }

  private certs(): DesktopCerts {
    const certs = this.c.certs;
    if (!certs) throw new UserFacingError('unavailable', 'Certificate management is not available in this build.');
    return certs;
  }

  // ---- the calls ----

  readonly calls: CausewayService = {
    getSnapshot: () => this.snapshot(),
    importProfile: async (bytes, name) => {
      const outcome = await this.c.importProfile(bytes, name, this.askKeyPassphrase(name));
      if (outcome.ok) await this.pushSnapshot();
      return importVerdict(outcome);
    },
    renameProfile: async (id, name) => {
      this.profile(id);
      try {
        this.c.profiles.rename(id, name);
      } catch (err) {
        throw userError(err, 'The profile could not be renamed.');
      }
      await this.pushSnapshot();
    },
    removeProfile: async (id) => {
      const p = this.profile(id);
      if (isActive(this.c.connections.get(id)?.state ?? { phase: 'idle' })) {
        throw new UserFacingError('connected', `Disconnect “${p.name}” before removing it.`);
      }
      await this.c.profiles.remove(id);
      this.views.delete(id);
      this.logs.delete(id);
      await this.pushSnapshot();
    },
    getProfileDetails: async (id): Promise<ProfileDetails> => {
      const p = this.profile(id);
      const certificate = this.c.certs ? await this.c.certs.forProfile(id) : null;
      return {
        ...profileSummary(p, this.now()),
        remotes: p.remotes.map((r) => ({ host: r.host, port: r.port, proto: r.proto })),
        certificate,
        passwordSaved: (await this.c.secrets.get(this.c.passwordAccount(id))) !== null,
        oidc: p.oidc ? { ...p.oidc, scopes: [...p.oidc.scopes] } : null,
        killSwitch: p.killSwitch,
        allowLan: p.allowLan,
      };
    },
    setProfileLeakProtection: async (id, input) => {
      this.profile(id);
      // A running session keeps what it started with; the next connection uses the new choice.
      this.c.profiles.setLeakProtection(id, { killSwitch: input.killSwitch, allowLan: input.allowLan });
      return this.calls.getProfileDetails(id);
    },
    setProfileOidc: async (id, input) => {
      const p = this.profile(id);
      if (isActive(this.c.connections.get(id)?.state ?? { phase: 'idle' })) {
        throw new UserFacingError('connected', `Disconnect “${p.name}” before changing its single sign-on.`);
      }
      const oidc = input ? this.oidcSettings(input) : null;
      this.c.profiles.replace({ ...p, oidc });
      // A refresh token belongs to the provider and client that issued it: sign in afresh after a change.
      if (p.oidc?.issuer !== oidc?.issuer || p.oidc?.clientId !== oidc?.clientId) await this.c.secrets.delete(refreshTokenAccount(p.id));
      await this.pushSnapshot();
      return this.calls.getProfileDetails(id);
    },
    connect: async (id) => {
      this.profile(id);
      try {
        this.c.connections.connect(id);
      } catch (err) {
        throw userError(err, 'The connection could not be started.');
      }
    },
    disconnect: async (id) => {
      this.profile(id);
      await this.c.connections.disconnect(id);
    },
    answerPrompt: async (id, answer) => this.prompts.answer(id, answer),
    cancelPrompt: async (id) => this.prompts.cancel(id),
    answerSecretPrompt: async (id, secret) => this.secretPrompts.answer(id, secret),
    cancelSecretPrompt: async (id) => this.secretPrompts.cancel(id),
    reopenLogin: async (id) => {
      const url = this.loginUrls.get(id);
      if (!url) throw new UserFacingError('no-login-page', 'There is no login page waiting for this profile.');
      await this.options.openUrl(url);
    },
    ackBanner: async (id) => {
      this.bannerAttempt.delete(id);
      if (this.banners.delete(id)) this.sink('bannerCleared', { id });
    },
    forgetPassword: async (id) => {
      this.profile(id);
      await this.c.secrets.delete(this.c.passwordAccount(id));
    },
    getSettings: async () => this.options.settings.get(),
    setSettings: async (next: Settings) => {
      if (next.connectOnStartup !== null) this.profile(next.connectOnStartup);
      const saved = await this.options.settings.set(next);
      await this.pushSnapshot();
      return saved;
    },
    listCerts: () => this.certs().list(),
    importCert: async (bytes, password, name) => {
      const cert = await this.certs().importPkcs12(bytes, password, name);
      await this.pushSnapshot();
      return cert;
    },
    removeCert: async (id) => {
      await this.certs().remove(id);
      await this.pushSnapshot();
    },
    attachCert: async (certId, profileId) => {
      this.profile(profileId);
      await this.certs().attach(certId, profileId);
      await this.pushSnapshot();
    },
    getLogs: async (id) => {
      this.profile(id);
      const live = this.logs.get(id) ?? [];
      const seen = new Set(live.map((l) => l.raw));
      const earlier = this.c.readLog(id).filter((line) => !seen.has(line));
      return [...this.earlierSessions(id, earlier), ...live.map(({ raw: _raw, ...line }) => line)];
    },
  };

  /** Imports a file chosen in main's File menu and tells the renderer; returns the verdict. */
  async importFile(path: string): Promise<ImportVerdict> {
    const outcome = await this.c.importProfileFile(path, this.askKeyPassphrase(null));
    if (outcome.ok) await this.pushSnapshot();
    return importVerdict(outcome);
  }

  /** Connects the profile chosen in Settings, if any; called once at startup. */
  async connectOnStartup(): Promise<void> {
    const id = this.options.settings.get().connectOnStartup;
    if (!id) return;
    try {
      await this.calls.connect(id);
    } catch (err) {
      this.options.logError('connect on startup', err);
    }
  }
}
