// What the user reads about a connection: one line per state, and for each failure a plain
// explanation plus the next step to take. The CLI prints these; the renderer shows them.
import type { ConnectionState, FailureReason } from './state.js';

export interface FailureMessage {
  title: string;
  nextStep: string;
}

export const FAILURE_MESSAGES: Record<FailureReason, FailureMessage> = {
  'bad-credentials': {
    title: 'The server rejected your credentials',
    nextStep: 'Check your username, password or one-time code and connect again.',
  },
  'bad-proxy-credentials': {
    title: 'The proxy rejected its username or password',
    nextStep: "Check the proxy's username and password with whoever runs the proxy. If the profile asks for them, connect again and enter them; otherwise import the profile again with the right ones.",
  },
  'sign-in-failed': {
    title: 'Signing in through the browser did not complete',
    nextStep: 'Connect again and finish signing in in the browser window that opens.',
  },
  'server-unreachable': {
    title: 'The VPN server could not be reached',
    nextStep: 'Check your internet connection; if it works, the server may be down — ask your administrator.',
  },
  'server-certificate-rejected': {
    title: "The server's certificate could not be verified",
    nextStep: 'Do not retry on this network. Ask your administrator for an up-to-date profile.',
  },
  'client-certificate-rejected': {
    title: 'The server rejected your certificate',
    nextStep: 'Your certificate may be expired or revoked. Import a new one with `causeway cert import`.',
  },
  'tls-version-refused': {
    title: 'The server only offers an outdated TLS version',
    nextStep: 'Causeway requires TLS 1.2 or newer. Ask your administrator to update the server.',
  },
  'tls-failed': {
    title: 'The secure connection to the server failed',
    nextStep: 'Try again; if it keeps failing, the profile and the server settings may not match.',
  },
  'profile-invalid': {
    title: 'The profile cannot be used',
    nextStep: 'Re-import the profile your administrator gave you.',
  },
  'helper-unavailable': {
    title: 'The Causeway helper is not running or stopped unexpectedly',
    nextStep: 'Connect again to start a new helper; if it keeps failing, reinstall Causeway.',
  },
  'session-expired': {
    title: 'The server ended the session because its time limit was reached',
    nextStep: 'Connect again to start a new session.',
  },
  'server-halted': {
    title: 'The server closed the connection',
    nextStep: 'Connect again later; if it keeps happening, ask your administrator.',
  },
  'network-setup-failed': {
    title: 'The tunnel could not be set up on this computer',
    nextStep:
      'If the detail mentions permission, the helper lacks privileges: install the Causeway service. Otherwise another VPN may be using the same addresses; disconnect it and try again.',
  },
  'permission-denied': {
    title: 'The helper refused the request',
    nextStep: 'You may not be allowed to manage VPN connections on this computer; ask your administrator.',
  },
  'prompt-timeout': {
    title: 'No answer was given in time',
    nextStep: 'Connect again and answer the prompt.',
  },
  cancelled: {
    title: 'The connection was cancelled',
    nextStep: 'Connect again when you are ready.',
  },
  'protocol-error': {
    title: 'Causeway and its helper could not understand each other',
    nextStep: 'Reinstall Causeway so the app and the helper are the same version.',
  },
  internal: {
    title: 'Something went wrong inside Causeway',
    nextStep: 'Try again; if it keeps failing, report it with the output of `causeway logs <profile>`.',
  },
};

const WAITING_TEXT = {
  server: 'authenticating',
  credentials: 'waiting for your username and password',
  challenge: 'waiting for your answer to the challenge',
  browser: 'waiting for you to sign in in the browser',
} as const;

/** One short line describing the state, e.g. "connected to vpn.example.com (203.0.113.5:1194/udp)". */
export function describeState(state: ConnectionState): string {
  switch (state.phase) {
    case 'idle':
      return 'disconnected';
    case 'resolving':
      return 'looking up the server';
    case 'connecting':
      return state.remote ? `connecting to ${remoteText(state.remote)}` : 'connecting';
    case 'authenticating':
      return WAITING_TEXT[state.waiting];
    case 'connected':
      return state.remote ? `connected to ${remoteText(state.remote)}` : 'connected';
    case 'reconnecting':
      return `reconnecting (attempt ${state.attempt}${state.cause ? `: ${state.cause}` : ''})`;
    case 'disconnecting':
      return 'disconnecting';
    case 'failed': {
      const m = FAILURE_MESSAGES[state.reason];
      return `failed: ${m.title}${state.detail ? ` (${state.detail})` : ''}. ${m.nextStep}`;
    }
  }
}

function remoteText(r: { host: string; address: string; port: number; proto: string }): string {
  const where = r.address && r.address !== r.host ? `${r.host} (${r.address}:${r.port}/${r.proto})` : `${r.host}:${r.port}/${r.proto}`;
  return where;
}
