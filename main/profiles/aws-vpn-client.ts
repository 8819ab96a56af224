// Migration from the official AWS VPN Client. It keeps an index, `ConnectionProfiles`
// (JSON: {Version, LastSelectedProfileIndex, ConnectionProfiles: [{ProfileName,
// OvpnConfigFilePath, CvpnEndpointId, CvpnEndpointRegion, CompatibilityVersion,
// FederatedAuthType}]}), and a copy of each .ovpn in `OpenVpnConfigs/<ProfileName>` inside its
// data folder (~/.config/AWSVPNClient on Linux and macOS, %APPDATA%\AWSVPNClient on Windows).
//
// Each profile is imported through the normal policy. Its file is looked up by base name in
// OpenVpnConfigs/ (the absolute path in the index may name another home directory after a
// machine move, and Causeway reads nothing outside that folder). A profile already migrated
// (same name, imported from the AWS VPN Client) is skipped, so running it twice is harmless.
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { importOvpnFile, type ImportOutcome } from './importer.js';
import { ProfileStoreError, type ProfileStore } from './store.js';

export interface AwsProfileEntry {
  ProfileName: string;
  OvpnConfigFilePath: string;
  CvpnEndpointId?: string;
  CvpnEndpointRegion?: string;
  FederatedAuthType?: number;
}

export interface MigrationItem {
  /** The AWS VPN Client's display name. */
  name: string;
  status: 'imported' | 'skipped' | 'failed';
  outcome: ImportOutcome | null;
  /** For skipped: why. */
  reason: string | null;
}

export class AwsMigrationError extends Error {
  override readonly name = 'AwsMigrationError';
}

/** Reads and checks the ConnectionProfiles index. */
export function readAwsIndex(awsDir: string): AwsProfileEntry[] {
  const indexPath = join(awsDir, 'ConnectionProfiles');
  let text: string;
  try {
    text = readFileSync(indexPath, 'utf8');
  } catch {
    throw new AwsMigrationError(`no AWS VPN Client profiles were found (${indexPath} does not exist)`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    throw new AwsMigrationError(`${indexPath} is not valid JSON`);
  }
  const list = (parsed as { ConnectionProfiles?: unknown } | null)?.ConnectionProfiles;
  if (!Array.isArray(list)) throw new AwsMigrationError(`${indexPath} has no ConnectionProfiles list`);
  return list.filter(
    (e): e is AwsProfileEntry =>
      typeof e === 'object' && e !== null && typeof (e as AwsProfileEntry).ProfileName === 'string' && typeof (e as AwsProfileEntry).OvpnConfigFilePath === 'string',
  );
}

/** Imports every profile of the AWS VPN Client found in `awsDir`. */
export async function migrateAwsVpnClient(store: ProfileStore, awsDir: string, options: { dryRun?: boolean } = {}): Promise<MigrationItem[]> {
  const entries = readAwsIndex(awsDir);
  const items: MigrationItem[] = [];
  for (const entry of entries) {
    const name = entry.ProfileName.trim() || basename(entry.OvpnConfigFilePath);
    const existing = store.list().profiles.find((p) => p.name === name && p.source.importer === 'aws-vpn-client');
    if (existing) {
      items.push({ name, status: 'skipped', outcome: null, reason: `already imported as ${existing.id}` });
      continue;
    }
    // Windows paths use backslashes; the base name is what the client wrote into OpenVpnConfigs.
    const fileName = entry.OvpnConfigFilePath.split(/[\\/]/).pop() || name;
    let freeName: string;
    try {
      freeName = store.freeName(name);
    } catch (e) {
      if (!(e instanceof ProfileStoreError)) throw e;
      const failure = { line: null, directive: null, message: e.message };
      items.push({ name, status: 'failed', outcome: { ok: false, profile: null, warnings: [], errors: [failure] }, reason: null });
      continue;
    }
    const outcome = await importOvpnFile(store, join(awsDir, 'OpenVpnConfigs', fileName), {
      name: freeName,
      dryRun: options.dryRun ?? false,
      importer: 'aws-vpn-client',
      adjust: (s) => {
        const endpointId = s.aws?.endpointId ?? entry.CvpnEndpointId ?? null;
        const region = s.aws?.region ?? entry.CvpnEndpointRegion ?? null;
        // The index names the endpoint even when the remote is a custom DNS name.
        const isAws = s.isAws || Boolean(entry.CvpnEndpointId);
        return { ...s, isAws, aws: isAws ? { endpointId: endpointId || null, region: region || null } : null };
      },
    });
    items.push({ name, status: outcome.ok ? 'imported' : 'failed', outcome, reason: null });
  }
  return items;
}
