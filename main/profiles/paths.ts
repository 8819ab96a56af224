// Where Causeway keeps its files: the same folder Electron's app.getPath('userData') gives the
// desktop app, so the CLI and the app share profiles.
//   Linux    $XDG_CONFIG_HOME/Causeway, else ~/.config/Causeway
//   macOS    ~/Library/Application Support/Causeway
//   Windows  %APPDATA%\Causeway
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface PlatformEnv {
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  home?: string;
}

export function configDir({ env = process.env, platform = process.platform, home = homedir() }: PlatformEnv = {}): string {
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'Causeway');
  if (platform === 'win32') return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'Causeway');
  const xdg = env.XDG_CONFIG_HOME;
  // The XDG spec says relative values are invalid and must be ignored.
  return join(xdg && xdg.startsWith('/') ? xdg : join(home, '.config'), 'Causeway');
}

/** One JSON file per profile lives here. */
export function profilesDir(options: PlatformEnv = {}): string {
  return join(configDir(options), 'profiles');
}

/** The official AWS VPN Client's data folder (its ConnectionProfiles index and OpenVpnConfigs/). */
export function awsVpnClientDir({ env = process.env, platform = process.platform, home = homedir() }: PlatformEnv = {}): string {
  if (platform === 'win32') return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'AWSVPNClient');
  return join(home, '.config', 'AWSVPNClient');
}
