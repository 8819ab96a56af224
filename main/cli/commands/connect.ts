// causeway connect <profile> [--json-events] [--no-browser]
import { parseCommandArgs } from '../parse-args.js';
import { CliError, cliTerminal, homeOf, terminalPassphrase, type CliIO, type Command } from '../context.js';
import { openCore } from '../../core.js';
import { describeState, FAILURE_MESSAGES } from '../../../app/connection/messages.js';
import type { FailureReason } from '../../../app/connection/state.js';
import type { ManagerEvent } from '../../connection/manager.js';
import type { PushedSettings } from '../../../app/helper-protocol/messages.js';
import { TerminalPrompter } from '../terminal.js';
import type { PromptAnswer, Prompter, PromptRequest } from '../../connection/prompter.js';
import { controlDir, queryAll, serveControl } from '../../connection/control.js';
import { isActive } from '../../../app/connection/state.js';
import { safeOpener, systemBrowserOpener } from '../../auth/browser.js';
import { createLoginFlows, signInTimeoutMs } from '../../auth/login-flows.js';

/** Exit statuses of `causeway connect` (documented in the README's CLI section). */
export const CONNECT_EXIT = {
  disconnected: 0,
  badInput: 1,
  internal: 2,
  authentication: 3,
  unreachable: 4,
  local: 5,
  endedByServer: 6,
} as const;

export function exitCodeFor(reason: FailureReason): number {
  switch (reason) {
    case 'bad-credentials':
    case 'bad-proxy-credentials':
    case 'sign-in-failed':
    case 'prompt-timeout':
    case 'cancelled':
    case 'client-certificate-rejected':
      return CONNECT_EXIT.authentication;
    case 'server-unreachable':
    case 'server-certificate-rejected':
    case 'tls-version-refused':
    case 'tls-failed':
      return CONNECT_EXIT.unreachable;
    case 'helper-unavailable':
    case 'network-setup-failed':
    case 'permission-denied':
    case 'profile-invalid':
      return CONNECT_EXIT.local;
    case 'session-expired':
    case 'server-halted':
      return CONNECT_EXIT.endedByServer;
    case 'protocol-error':
    case 'internal':
      return CONNECT_EXIT.internal;
  }
}

const usage = `usage: causeway connect <profile> [--kill-switch] [--json-events] [--no-browser] [--device-code]

Connects a profile (id or name) in the foreground. Prints one line per state change, asks for
credentials and challenge answers on the terminal (secrets are not echoed), prints the server's
banner and the pushed settings once connected, and disconnects cleanly on Ctrl-C, SIGTERM or SIGHUP
(or \`causeway disconnect\` from another terminal).

  --kill-switch  turn the kill switch on for this connection (nothing leaves the computer but
                 the tunnel and the VPN server while connected or reconnecting), whatever the
                 profile says; \`causeway set <profile> kill-switch on\` keeps it on
  --json-events  print one JSON object per line on stdout instead of text

When stdin is not a terminal, answers are read one per line in the order the questions come:
the secret file's passphrase (only without a keyring); for a profile whose proxy asks, the proxy
username, proxy password, "remember the proxy password?"; then username (unless known), password,
static-challenge answer, "remember the password?"; end of input at a question with a default
(remember: no; a known username) takes the default.
  --no-browser   print sign-in URLs instead of opening the browser
  --device-code  OIDC profiles: sign in on another device with a code (no browser here)

Exit status: 0 disconnected on request; 1 bad input (unknown profile, bad arguments);
2 internal error; 3 authentication failed (bad credentials or proxy credentials, sign-in not completed, no answer,
certificate rejected);
4 server unreachable or TLS/server certificate problem; 5 local problem (helper unavailable,
network setup failed, unusable profile); 6 the server ended the session (time limit, shutdown).`;

function clock(): string {
  return new Date().toTimeString().slice(0, 8);
}

function pushedLines(p: PushedSettings): string[] {
  const lines = [`  device      ${p.device} (MTU ${p.mtu}, ${p.cipher})`];
  if (p.ipv4) lines.push(`  address     ${p.ipv4.address}/${p.ipv4.prefix}${p.ipv4.gateway ? ` via ${p.ipv4.gateway}` : ''}`);
  if (p.ipv6) lines.push(`  address6    ${p.ipv6.address}/${p.ipv6.prefix}`);
  if (p.redirectGateway) lines.push('  routes      all traffic (redirect-gateway)');
  const routes = [...p.routes, ...p.routesIpv6];
  if (routes.length) lines.push(`  routes      ${routes.join(' ')}`);
  if (p.dns.servers.length) lines.push(`  dns         ${p.dns.servers.join(' ')}`);
  if (p.dns.searchDomains.length) lines.push(`  search      ${p.dns.searchDomains.join(' ')}`);
  if (p.dns.routeDomains.length) lines.push(`  dns for     ${p.dns.routeDomains.join(' ')}`);
  if (p.sessionTimeoutSec !== null) lines.push(`  session     ends after ${p.sessionTimeoutSec} s (server limit)`);
  return lines;
}

/** Announces each prompt as a JSON event before asking on the terminal. */
function announcingPrompter(inner: Prompter, emit: (e: object) => void): Prompter {
  return {
    ask(request: PromptRequest, signal: AbortSignal): Promise<PromptAnswer | null> {
      const { id, kind, timeoutMs } = request;
      const detail =
        request.kind === 'challenge'
          ? { text: request.text, echo: request.echo }
          : request.kind === 'proxy-password'
            ? { proxy: request.proxy, username: request.username, canRemember: request.canRemember, retryReason: request.retryReason }
            : { username: request.username, askPassword: request.askPassword, challenge: request.challenge, canRemember: request.canRemember, retryReason: request.retryReason };
      emit({ event: 'prompt', id, kind, timeoutMs, ...detail });
      return inner.ask(request, signal);
    },
  };
}

export const connectCommand: Command = {
  summary: 'connect a profile in the foreground',
  usage,
  async run(args, io: CliIO) {
    const { values, positionals } = parseCommandArgs(
      args,
      {
        'json-events': { type: 'boolean', default: false },
        'no-browser': { type: 'boolean', default: false },
        'device-code': { type: 'boolean', default: false },
        'kill-switch': { type: 'boolean', default: false },
      },
      usage,
    );
    if (positionals.length !== 1) throw new CliError(`give exactly one profile\n${usage}`);
    const json = values['json-events'] === true;
    const emit = (e: object) => io.stdout(`${JSON.stringify(e)}\n`);
    const say = (text: string) => (json ? undefined : io.stdout(`${text}\n`));
    // Questions go to stderr so stdout stays machine-readable with --json-events.
    const terminal = cliTerminal(io);
    const terminalPrompter = new TerminalPrompter(terminal);
    const prompter = json ? announcingPrompter(terminalPrompter, emit) : terminalPrompter;
    const opener = safeOpener(systemBrowserOpener(process.platform, io.env));
    const openUrl = async (url: string) => {
      if (json) emit({ event: 'open-url', url, opened: !values['no-browser'] });
      else io.stdout(`${values['no-browser'] ? 'Sign in at' : 'Opening your browser to sign in:'} ${url}\n`);
      if (!values['no-browser']) await opener.open(url);
    };
    const passphraseIo: CliIO = json
      ? { ...io, onPassphrasePrompt: ({ creating, path }) => emit({ event: 'prompt', kind: 'passphrase', purpose: 'secret-store', creating, path }) }
      : io;
    const core = await openCore({
      prompter,
      askPassphrase: terminalPassphrase(passphraseIo),
      env: io.env,
      home: homeOf(io),
      clientName: 'causeway-cli',
      openUrl,
      loginFlows: createLoginFlows({
        opener: safeOpener({ open: openUrl }),
        oidcMode: values['device-code'] ? 'device' : 'browser',
        acsTimeoutMs: signInTimeoutMs(io.env),
        oidcBrowserTimeoutMs: signInTimeoutMs(io.env),
        notify: (n) => {
          if (n.kind === 'waiting-for-browser') {
            if (json) emit({ event: 'waiting-for-browser', host: n.host, timeoutSec: n.timeoutSec });
            else say(`${clock()} waiting for you to sign in in the browser (up to ${n.timeoutSec} s)`);
            return;
          }
          const { userCode, verificationUri, verificationUriComplete } = n.prompt;
          if (json) emit({ event: 'device-code', userCode, verificationUri, verificationUriComplete });
          else io.stdout(`To sign in, open ${verificationUri} on any device and enter the code ${userCode}\n`);
        },
      }),
    });
    let profileId: string;
    try {
      profileId = core.profiles.resolve(positionals[0]!).id;
    } catch (e) {
      await core.shutdown();
      throw e;
    }
    // One tunnel per profile: another `causeway connect` may already run it.
    const elsewhere = (await queryAll({ op: 'status' }, controlDir(io.env))).find(
      (r) => r.ok && r.sessions.some((s) => s.profileId === profileId && isActive(s.state)),
    );
    if (elsewhere) {
      await core.shutdown();
      throw new CliError(`"${positionals[0]}" is already connected by process ${elsewhere.pid}; see causeway status`);
    }
    if (!core.secrets.persistent && !json) io.stderr(`note: ${core.secrets.reason}\n`);
    const control = await serveControl(core.connections, controlDir(io.env));

    let stopping = false;
    let finish!: (code: number) => void;
    const finished = new Promise<number>((resolve) => (finish = resolve));
    const stop = () => {
      if (stopping) {
        io.stderr('causeway: stopping now\n');
        process.exit(130);
      }
      stopping = true;
      say(`${clock()} disconnecting (press Ctrl-C again to stop at once)`);
      void core.connections.disconnect(profileId);
    };
    // SIGHUP: the terminal went away; the tunnel must not outlive the command that owns it.
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
    for (const sig of signals) process.on(sig, stop);

    core.connections.on((e: ManagerEvent) => {
      switch (e.type) {
        case 'state': {
          if (e.session.profileId !== profileId) return;
          const s = e.session.state;
          if (json) emit({ event: 'state', profile: profileId, phase: s.phase, state: s, text: describeState(s) });
          else say(`${clock()} ${e.session.profileName}: ${describeState(s)}`);
          if (s.phase === 'connected' && e.session.pushed && !json) pushedLines(e.session.pushed).forEach((l) => say(l));
          if (s.phase === 'idle') finish(CONNECT_EXIT.disconnected);
          if (s.phase === 'failed' && !e.session.retrying) finish(exitCodeFor(s.reason));
          return;
        }
        case 'banner':
          return json ? emit({ event: 'banner', text: e.text }) : say(`  server says: ${e.text}`);
        case 'pushed':
          return json ? emit({ event: 'pushed', settings: e.settings }) : undefined;
        case 'notice':
          return json ? emit({ event: 'notice', text: e.text }) : say(`${clock()} note: ${e.text}`);
        case 'stats':
          return json ? emit({ event: 'stats', rxBytes: e.stats.rxBytes, txBytes: e.stats.txBytes }) : undefined;
        case 'log':
          return;
      }
    });

    let code: number;
    try {
      core.connections.connect(profileId, { killSwitch: values['kill-switch'] === true });
      code = await finished;
      if (code !== CONNECT_EXIT.disconnected) {
        const s = core.connections.get(profileId)?.state;
        if (s?.phase === 'failed' && !json) io.stderr(`causeway: ${FAILURE_MESSAGES[s.reason].title}. ${FAILURE_MESSAGES[s.reason].nextStep}\n`);
      }
    } finally {
      for (const sig of signals) process.off(sig, stop);
      terminal.close();
      await control.close();
      await core.shutdown();
    }
    if (json) emit({ event: 'exit', code });
    return code;
  },
};
