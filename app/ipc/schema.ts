// THE renderer <-> main contract. Every call the renderer can make and every event main can push
// is listed here, once. From it come:
//   - the typed `window.causeway` bridge (bridge.ts; the Electron preload and the e2e page use it),
//   - main's handler table (handlers.ts), which validates every call's arguments with the
//     validators below before the service sees them.
// On purpose there is no generic file, decrypt or open-URL call: the renderer hands over bytes the
// user chose, ids, and answers; main decides what to open (reopenLogin opens the URL main already
// holds for that connection).
import type {
  AppSnapshot,
  Banner,
  CertSummary,
  ConnectionView,
  ImportVerdict,
  LeakProtectionInput,
  LogLine,
  OidcSettingsInput,
  ProfileDetails,
  PromptRequest,
  SecretPrompt,
  Settings,
  TrafficStats,
} from './types';
import { boolean, bytes, literal, nullable, object, string, tuple, variant, type Infer, type Validator } from './validate';

/** Largest .ovpn the app accepts (real profiles are a few KiB; inline blocks keep them small). */
export const MAX_PROFILE_BYTES = 4 * 1024 * 1024;
export const MAX_PKCS12_BYTES = 1024 * 1024;

const id = string({ min: 1, max: 200, pattern: /^[\w.:-]+$/ });
const name = string({ min: 1, max: 200 });
const secret = string({ min: 0, max: 4096 });

const promptAnswer = variant('kind', {
  password: { username: string({ max: 512 }), password: secret, response: nullable(secret), remember: boolean },
  response: { response: secret },
});

/** What the user typed; main checks it further (https issuer, claim syntax) with the importer's rules. */
const oidcSettings: Validator<OidcSettingsInput> = object({
  issuer: string({ min: 1, max: 2048 }),
  clientId: string({ min: 1, max: 512 }),
  scopes: string({ max: 1024 }),
  usernameClaim: string({ max: 200 }),
  token: literal('id_token', 'access_token'),
});

const settingsPatch = object({
  connectOnStartup: nullable(id),
  startMinimized: boolean,
  notifications: boolean,
  newProfileKillSwitch: boolean,
  newProfileAllowLan: boolean,
});

const leakProtection: Validator<LeakProtectionInput> = object({ killSwitch: boolean, allowLan: boolean });

interface CallSpec<A extends unknown[], R> {
  args: Validator<A>;
  /** Phantom, never set: the result type (main is trusted, so results are not validated). */
  readonly result: R;
}

function call<R>() {
  return <A extends unknown[]>(args: Validator<A>): CallSpec<A, R> => ({ args }) as CallSpec<A, R>;
}

export const calls = {
  getSnapshot: call<AppSnapshot>()(tuple()),
  importProfile: call<ImportVerdict>()(tuple(bytes({ max: MAX_PROFILE_BYTES }), name)),
  renameProfile: call<void>()(tuple(id, name)),
  removeProfile: call<void>()(tuple(id)),
  getProfileDetails: call<ProfileDetails>()(tuple(id)),
  connect: call<void>()(tuple(id)),
  disconnect: call<void>()(tuple(id)),
  answerPrompt: call<void>()(tuple(id, promptAnswer)),
  cancelPrompt: call<void>()(tuple(id)),
  /** Answers a secret prompt (e.g. a key's passphrase while an import waits for it). */
  answerSecretPrompt: call<void>()(tuple(id, secret)),
  cancelSecretPrompt: call<void>()(tuple(id)),
  /** Opens the pending login page of this profile's connection again (main holds the URL). */
  reopenLogin: call<void>()(tuple(id)),
  ackBanner: call<void>()(tuple(id)),
  forgetPassword: call<void>()(tuple(id)),
  /** Sets (or, with null, removes) the profile's single sign-on settings; returns the new details. */
  setProfileOidc: call<ProfileDetails>()(tuple(id, nullable(oidcSettings))),
  /** Sets the profile's kill switch and LAN access (used from its next connection); returns the new details. */
  setProfileLeakProtection: call<ProfileDetails>()(tuple(id, leakProtection)),
  getSettings: call<Settings>()(tuple()),
  setSettings: call<Settings>()(tuple(settingsPatch)),
  listCerts: call<CertSummary[]>()(tuple()),
  importCert: call<CertSummary>()(tuple(bytes({ max: MAX_PKCS12_BYTES }), secret, name)),
  removeCert: call<void>()(tuple(id)),
  attachCert: call<void>()(tuple(id, id)),
  getLogs: call<LogLine[]>()(tuple(id)),
} satisfies Record<string, CallSpec<unknown[], unknown>>;

export type Calls = typeof calls;
export type CallName = keyof Calls;
export type CallArgs<K extends CallName> = Calls[K] extends CallSpec<infer A, unknown> ? A : never;
export type CallResult<K extends CallName> = Calls[K]['result'];
export type PromptAnswerInput = Infer<typeof promptAnswer>;

export const callNames = Object.keys(calls) as CallName[];

/** Events main pushes. The payload types are the contract; main is trusted, so no validators. */
export interface Events {
  snapshot: AppSnapshot;
  connection: { profileId: string; view: ConnectionView };
  stats: TrafficStats;
  banner: Banner;
  bannerCleared: { id: string };
  prompt: PromptRequest;
  promptClosed: { id: string };
  secretPrompt: SecretPrompt;
  secretPromptClosed: { id: string };
  log: LogLine;
}

export type EventName = keyof Events;

export const eventNames = [
  'snapshot',
  'connection',
  'stats',
  'banner',
  'bannerCleared',
  'prompt',
  'promptClosed',
  'secretPrompt',
  'secretPromptClosed',
  'log',
] as const satisfies readonly EventName[];

/** Channel names used by transports (Electron ipcMain/ipcRenderer, the e2e page binding). */
export const callChannel = (nameOf: CallName): string => `causeway:call:${nameOf}`;
export const eventChannel = (nameOf: EventName): string => `causeway:event:${nameOf}`;

/** How a call's outcome travels: errors as data, because Electron mangles thrown errors. */
export type CallOutcome<R> = { ok: true; value: R } | { ok: false; error: { code: string; message: string } };
