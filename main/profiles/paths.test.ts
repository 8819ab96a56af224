import { describe, expect, it } from 'vitest';
import { awsVpnClientDir, configDir, profilesDir } from './paths.js';

describe('where Causeway keeps its files', () => {
  it('follows XDG on Linux, ignoring a relative XDG_CONFIG_HOME', () => {
    expect(configDir({ platform: 'linux', home: '/home/a', env: { XDG_CONFIG_HOME: '/x/cfg' } })).toBe('/x/cfg/Causeway');
    expect(configDir({ platform: 'linux', home: '/home/a', env: {} })).toBe('/home/a/.config/Causeway');
    expect(configDir({ platform: 'linux', home: '/home/a', env: { XDG_CONFIG_HOME: 'rel/cfg' } })).toBe('/home/a/.config/Causeway');
    expect(profilesDir({ platform: 'linux', home: '/home/a', env: {} })).toBe('/home/a/.config/Causeway/profiles');
  });

  it('uses the usual app-data folders on macOS and Windows (as Electron userData does)', () => {
    expect(configDir({ platform: 'darwin', home: '/Users/a', env: {} })).toBe('/Users/a/Library/Application Support/Causeway');
    expect(configDir({ platform: 'win32', home: '/u/a', env: { APPDATA: '/u/a/AppData/Roaming' } })).toBe('/u/a/AppData/Roaming/Causeway');
  });

  it('finds the AWS VPN Client data folder', () => {
    expect(awsVpnClientDir({ platform: 'linux', home: '/home/a', env: {} })).toBe('/home/a/.config/AWSVPNClient');
    expect(awsVpnClientDir({ platform: 'darwin', home: '/Users/a', env: {} })).toBe('/Users/a/.config/AWSVPNClient');
    expect(awsVpnClientDir({ platform: 'win32', home: '/u/a', env: { APPDATA: '/u/a/AppData/Roaming' } })).toBe('/u/a/AppData/Roaming/AWSVPNClient');
  });
});
