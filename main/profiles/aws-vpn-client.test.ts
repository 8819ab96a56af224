import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keepingSecretStore } from '../../test/corpus/support/secrets.js';
import { AwsMigrationError, migrateAwsVpnClient } from './aws-vpn-client.js';
import { ProfileStore } from './store.js';

const corpus = (f: string) => new URL(`../../test/corpus/${f}`, import.meta.url).pathname;

let dir: string;
let store: ProfileStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cw-aws-'));
  store = new ProfileStore(join(dir, 'profiles'), keepingSecretStore());
  mkdirSync(join(dir, 'AWSVPNClient', 'OpenVpnConfigs'), { recursive: true });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function index(entries: object[] | string): void {
  writeFileSync(join(dir, 'AWSVPNClient', 'ConnectionProfiles'), typeof entries === 'string' ? entries : JSON.stringify({ Version: '1', ConnectionProfiles: entries }));
}

describe('migrateAwsVpnClient', () => {
  it('explains a missing or unreadable index', async () => {
    await expect(migrateAwsVpnClient(store, join(dir, 'AWSVPNClient'))).rejects.toThrow(AwsMigrationError);
    index('{not json');
    await expect(migrateAwsVpnClient(store, join(dir, 'AWSVPNClient'))).rejects.toThrow(/is not valid JSON/);
  });

  it('takes the endpoint from the index when the remote is a custom name, and reports bad entries per profile', async () => {
    copyFileSync(corpus('real-world/pfsense-client-export.ovpn'), join(dir, 'AWSVPNClient', 'OpenVpnConfigs', 'Custom'));
    index([
      { ProfileName: 'Custom', OvpnConfigFilePath: 'C:\\Users\\a\\AppData\\Roaming\\AWSVPNClient\\OpenVpnConfigs\\Custom', CvpnEndpointId: 'cvpn-endpoint-0abc', CvpnEndpointRegion: 'us-east-2' },
      { ProfileName: 'x'.repeat(101), OvpnConfigFilePath: '/nowhere/Long' },
      { ProfileName: 'Missing', OvpnConfigFilePath: '/nowhere/Missing' },
    ]);
    const items = await migrateAwsVpnClient(store, join(dir, 'AWSVPNClient'));
    expect(items.map((i) => i.status)).toEqual(['imported', 'failed', 'failed']);
    expect(items[0]!.outcome!.profile).toMatchObject({ isAws: true, aws: { endpointId: 'cvpn-endpoint-0abc', region: 'us-east-2' } });
    expect(items[1]!.outcome!.errors[0]!.message).toMatch(/at most 100 characters/);
    expect(items[2]!.outcome!.errors[0]!.message).toMatch(/OpenVpnConfigs\/Missing" does not exist/);
  });
});
