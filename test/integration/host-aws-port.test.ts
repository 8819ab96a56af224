// Guard: no suite occupies the host's 127.0.0.1:35001, the port the real AWS VPN Client uses on a
// user's machine. Runs in the host's network namespace as its own suite after `integration` and
// `e2e` (scripts/test.mjs), so a listener any suite left behind — a CLI, a browser, a stray ACS —
// fails it. The files that use the port run in their own namespaces (test/support/aws-port-files.ts),
// and each checks the host's port while its own ACS is up.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AWS_ACS_PORT } from '../../main/auth/saml-acs.js';
import { AWS_ACS_PORT_FILES } from '../support/aws-port-files.js';
import { hostListeners, inOwnNetns } from '../support/host-netns.js';

const repo = join(import.meta.dirname, '..', '..');

describe('the host’s AWS ACS port', () => {
  it('runs in the host’s network namespace', () => {
    expect(inOwnNetns()).toBe(false);
  });

  it('has no listener on 127.0.0.1:35001 after the suites ran', () => {
    expect(hostListeners(AWS_ACS_PORT), 'something listens on the host’s AWS VPN Client port').toEqual([]);
  });

  it('every file that runs the AWS SAML flow is one that runs in its own network namespace', () => {
    const awsFlowFiles = ['integration', 'e2e']
      .flatMap((dir) => readdirSync(join(repo, 'test', dir)).map((f) => `test/${dir}/${f}`))
      .filter((f) => f.endsWith('.test.ts') && /\b(startAwsEndpoint|startSamlLab)\(/.test(readFileSync(join(repo, f), 'utf8')));
    expect(awsFlowFiles.sort()).toEqual([...AWS_ACS_PORT_FILES].sort());
  });
});
