// Starts the AWS-like endpoint inside the namespace lab: the patched openvpn server (built by
// ../openvpn-patched/build.sh, cached between runs) in the server namespace, configured for
// management-client-auth on a unix socket (reachable from the test's namespace), certificate-less
// clients and auth-gen-token, plus the controller that plays AWS's SAML logic.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Lab } from '../lab/index.js';
import { describeServer, serverConfig, type ServerInfo } from '../lab/openvpn-server.js';
import { LabProcess } from '../lab/process.js';
import { AwsEndpointController, type AwsEndpointOptions } from './controller.js';
import { rmSync, writeFileSync } from 'node:fs';

const BUILD_SCRIPT = join(import.meta.dirname, '..', 'openvpn-patched', 'build.sh');

let patchedPath: string | null = null;

/**
 * Path of the patched openvpn (builds it on first use; minutes, then cached). The script runs
 * once per process; its stderr is kept so a failed build says why.
 */
export function patchedOpenvpn(): string {
  if (patchedPath) return patchedPath;
  const r = spawnSync('bash', [BUILD_SCRIPT], { encoding: 'utf8', timeout: 20 * 60_000 });
  const path = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !path.endsWith('/openvpn')) {
    throw new Error(
      `openvpn-patched/build.sh failed (status ${r.status}, ${r.error?.message ?? 'no spawn error'}): ${(r.stderr ?? '').slice(-1500)}`,
    );
  }
  patchedPath = path;
  return path;
}

export interface AwsEndpoint {
  info: ServerInfo;
  /** The current controller (a restart attaches a new one; its events start empty). */
  readonly controller: AwsEndpointController;
  readonly server: LabProcess;
  /**
   * Stops and starts the server and re-attaches a controller. With `forgetTokens` the auth-token
   * secret is replaced, so tokens issued before are no longer valid (as after an AWS session reset).
   */
  restart(options?: { forgetTokens?: boolean }): Promise<void>;
  /** An .ovpn profile as the AWS console exports it for this endpoint (SAML, no client cert). */
  profileText(): string;
  stop(): Promise<void>;
}

export async function startAwsEndpoint(
  lab: Lab,
  options: Omit<AwsEndpointOptions, 'socketPath'> & { slot?: number; proto?: 'udp' | 'tcp' },
): Promise<AwsEndpoint> {
  const binary = patchedOpenvpn();
  // Slots far above the lab's own counter, so lab servers and this one never share a port/subnet.
  const slot = options.slot ?? 40;
  const info = describeServer(lab.netns.serverAddress, { name: `aws${slot}`, port: 1194 + slot, subnet: slot }, {
    proto: options.proto ?? 'udp',
    // auth-gen-token needs a finite reneg-sec; clients (AWS profiles: reneg-sec 0) never start one.
    renegSec: 36_000,
  });
  const socketPath = join(lab.dir, `aws${slot}-mgmt.sock`);
  const tokenSecret = join(lab.dir, `aws${slot}-auth-token.key`);
  const newTokenSecret = () => execFileSync(binary, ['--genkey', 'auth-token', tokenSecret], { stdio: 'ignore' });
  newTokenSecret();
  const config =
    serverConfig(info, lab.pki, lab.dir) +
    [
      '# AWS Client VPN-like: SAML via management-client-auth, no client certificate',
      'verify-client-cert none',
      'username-as-common-name',
      `management ${socketPath} unix`,
      'management-client-auth',
      `auth-gen-token 3600`,
      `auth-gen-token-secret ${tokenSecret}`,
      '',
    ].join('\n');
  const configPath = join(lab.dir, `${info.name}.conf`);
  writeFileSync(configPath, config);
  const launch = async (): Promise<{ server: LabProcess; controller: AwsEndpointController }> => {
    const child = spawn('ip', ['netns', 'exec', lab.netns.server, binary, '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    const server = new LabProcess(child, 'aws-like openvpn');
    try {
      await server.waitForLog('Initialization Sequence Completed', 20_000);
      return { server, controller: await AwsEndpointController.connect({ ...options, socketPath }) };
    } catch (e) {
      await server.stop();
      throw e;
    }
  };
  let current = await launch();
  return {
    info,
    get controller() {
      return current.controller;
    },
    get server() {
      return current.server;
    },
    async restart(restartOptions = {}) {
      current.controller.close();
      await current.server.stop();
      if (restartOptions.forgetTokens) {
        rmSync(tokenSecret);
        newTokenSecret();
      }
      current = await launch();
    },
    profileText: () =>
      [
        'client',
        'dev tun',
        `proto ${info.options.proto}`,
        `remote ${info.address} ${info.port}`,
        'resolv-retry infinite',
        'nobind',
        'remote-cert-tls server',
        'cipher AES-256-GCM',
        'verb 3',
        '<ca>',
        lab.pki.ca.trim(),
        '</ca>',
        'auth-user-pass',
        'auth-federate',
        'auth-retry interact',
        'reneg-sec 0',
        '',
      ].join('\n'),
    async stop() {
      current.controller.close();
      await current.server.stop();
    },
  };
}
