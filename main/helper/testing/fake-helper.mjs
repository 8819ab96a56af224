#!/usr/bin/env node
// A scripted stand-in for `causeway-helper --stdio`, for unit tests of the helper client and the
// connection manager under plain Node (no root, no TUN). It speaks the real framing and message
// set. FAKE_HELPER selects a misbehaviour; otherwise it plays a server that:
//   - connects certificate profiles at once;
//   - asks for a password when authUserPass is set and no credentials came with connect, and
//     accepts FAKE_PASSWORD (default "right"); with staticChallenge it wants FAKE_OTP as response;
//   - for username "crv1-user" asks a CRV1 challenge "Enter PIN" and wants "4321";
//   - fails auth-failed on a wrong answer; disconnects on request; exits on stdin EOF;
//   - plays a proxy that wants FAKE_PROXY_PASSWORD (default "proxy-right") when the config's
//     proxy carries credentials, failing proxy-auth-failed on any other.
// It also logs each received message type to stderr (never values), like the real helper.
import { closeSync } from 'node:fs';

const mode = process.env.FAKE_HELPER ?? 'normal';
const rightPassword = process.env.FAKE_PASSWORD ?? 'right';
const rightOtp = process.env.FAKE_OTP ?? '123456';
const sessions = new Map();

function send(message) {
  const body = Buffer.from(JSON.stringify(message));
  const header = Buffer.alloc(4);
  header.writeUInt32BE(body.length);
  process.stdout.write(Buffer.concat([header, body]));
}
const remote = { host: 'vpn.example.test', address: '192.0.2.10', port: 1194, proto: 'udp' };
const state = (session, phase, error = null) => send({ type: 'state', session, phase, remote, error });

function connected(session) {
  const s = sessions.get(session);
  s.phase = 'connected';
  state(session, 'authenticating');
  send({
    type: 'pushed',
    session,
    settings: {
      ipv4: { address: `10.8.0.${1 + sessions.size}`, prefix: 24, gateway: '10.8.0.1' },
      ipv6: null,
      routes: ['10.20.0.0/16'],
      routesIpv6: [],
      redirectGateway: false,
      redirectGatewayIpv6: false,
      blockLocal: false,
      blockIpv6: false,
      dns: { servers: ['10.8.0.1'], searchDomains: ['corp.example'], routeDomains: [] },
      mtu: 1500,
      device: `cw${s.index}`,
      peerId: 1,
      cipher: 'AES-256-GCM',
      sessionTimeoutSec: process.env.FAKE_SESSION_TIMEOUT ? Number(process.env.FAKE_SESSION_TIMEOUT) : null,
    },
  });
  send({ type: 'echo', session, text: 'Welcome to the test VPN' });
  state(session, 'connected');
  send({ type: 'stats', session, rxBytes: 1234, txBytes: 567 });
  if (mode === 'drop-after-connect') {
    setTimeout(() => {
      state(session, 'reconnecting', { code: 'server-unreachable', message: 'ping timeout' });
      setTimeout(() => state(session, 'connected'), 50);
    }, 50);
  }
  if (mode === 'rechallenge-after-connect' && !s.rechallenged) {
    // The server dropped us and has no auth-token: the engine needs a fresh one-time code.
    s.rechallenged = true;
    setTimeout(() => {
      state(session, 'reconnecting', { code: 'server-unreachable', message: 'connection reset' });
      send({ type: 'needCredentials', session, kind: 'static-challenge', challenge: s.config.staticChallenge?.text ?? '', echo: false, username: null });
    }, 50);
  }
  if (mode === 'route-removed-after-connect') {
    // The real helper's route watch removed a route the LAN added inside the tunnel's.
    send({ type: 'routeRemoved', session, destination: '192.0.2.0/24', gateway: '192.168.1.1', device: 'eth0' });
  }
  if (mode === 'crash-after-connect') setTimeout(() => process.kill(process.pid, 'SIGKILL'), 50);
  if (mode === 'expire-after-connect') {
    setTimeout(() => state(session, 'failed', { code: 'session-expired', message: 'session timeout reached' }), 50);
  }
}

function fail(session, code, message) {
  sessions.delete(session);
  state(session, 'failed', { code, message });
}

function handle(m) {
  process.stderr.write(`fake-helper: received ${m.type}\n`);
  // The leak-protection switches are no secret; tests check that main sends what the user chose.
  if (m.type === 'connect') process.stderr.write(`fake-helper: connect killSwitch=${m.config.killSwitch} allowLan=${m.config.allowLan}\n`);
  switch (m.type) {
    case 'hello':
      if (mode === 'silent') return;
      if (mode === 'bad-frame') {
        process.stdout.write(Buffer.from([0xff, 0xff, 0xff, 0xff]));
        return;
      }
      send({ type: 'hello', version: mode === 'wrong-version' ? 2 : 1, helper: 'fake-helper 0.0.0' });
      if (mode === 'invalid-message') send({ type: 'log', session: null, level: 'info', text: 'x', extra: true });
      if (mode === 'deaf') {
        // Stops reading but stays alive: the client's next write fails with EPIPE.
        process.stdin.destroy();
        closeSync(0);
        setInterval(() => {}, 1000);
      }
      return;
    case 'connect': {
      const c = m.config;
      const s = { config: c, index: sessions.size, username: c.credentials?.username ?? null, phase: 'connecting' };
      sessions.set(m.session, s);
      state(m.session, 'resolving');
      state(m.session, 'connecting');
      if (mode === 'unreachable') return fail(m.session, 'server-unreachable', 'no answer from 192.0.2.10:1194');
      if (c.proxy?.credentials && c.proxy.credentials.password !== (process.env.FAKE_PROXY_PASSWORD ?? 'proxy-right')) {
        return fail(m.session, 'proxy-auth-failed', 'cannot reach 192.0.2.10:1194: through the SOCKS proxy: the SOCKS proxy refused the proxy username or password');
      }
      if (c.authUserPass && c.credentials) return checkPassword(m.session, c.credentials.username, c.credentials.password, null);
      if (c.authUserPass) {
        s.phase = 'authenticating';
        state(m.session, 'authenticating');
        const sc = c.staticChallenge;
        return send({
          type: 'needCredentials',
          session: m.session,
          kind: sc ? 'static-challenge' : 'password',
          challenge: sc ? sc.text : null,
          echo: sc ? sc.echo : false,
          username: null,
        });
      }
      return connected(m.session);
    }
    case 'credentials':
      if (sessions.get(m.session)?.awaitingCrv1) {
        return m.response === '4321' ? connected(m.session) : fail(m.session, 'auth-failed', 'AUTH_FAILED');
      }
      return checkPassword(m.session, m.username, m.password, m.response);
    case 'crResponse':
      return m.response === '4321' ? connected(m.session) : fail(m.session, 'auth-failed', 'AUTH_FAILED');
    case 'disconnect':
      if (!sessions.has(m.session)) return send({ type: 'error', session: m.session, code: 'unknown-session', message: 'no such session' });
      sessions.delete(m.session);
      state(m.session, 'disconnecting');
      return state(m.session, 'disconnected');
    case 'status':
      return send({
        type: 'statusReply',
        sessions: [...sessions].map(([session, s]) => ({
          session,
          phase: s.phase,
          uid: null,
          device: `cw${s.index}`,
          rxBytes: 0,
          txBytes: 0,
          connectedSince: null,
        })),
      });
  }
}

function checkPassword(session, username, password, response) {
  const s = sessions.get(session);
  if (!s) return;
  if (password !== rightPassword) return fail(session, 'auth-failed', 'AUTH_FAILED');
  if (s.config.staticChallenge && response !== rightOtp) return fail(session, 'auth-failed', 'AUTH_FAILED');
  if (username === 'crv1-user') {
    s.awaitingCrv1 = true;
    return send({ type: 'needCredentials', session, kind: 'crv1', challenge: 'Enter PIN', echo: true, username });
  }
  connected(session);
}

let buffered = Buffer.alloc(0);
process.stdin.on('data', (chunk) => {
  buffered = Buffer.concat([buffered, chunk]);
  while (buffered.length >= 4) {
    const length = buffered.readUInt32BE(0);
    if (buffered.length < 4 + length) break;
    const body = buffered.subarray(4, 4 + length);
    buffered = buffered.subarray(4 + length);
    handle(JSON.parse(body.toString('utf8')));
  }
});
process.stdin.on('end', () => {
  for (const session of sessions.keys()) state(session, 'disconnected');
  process.exit(0);
});
