// electron-builder cannot download Electron or its packaging tools here, so the packaging is
// checked as configuration: electron-builder's own schema, the design every OS must follow
// (app + helper + service + group; AppImage without a service), and files that exist.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { helperCandidates } from '../../main/helper/locate.js';
import { SERVICE_SOCKET } from '../../main/helper/connect.js';
import { writePackageScripts } from '../../scripts/linux-package-scripts.mjs';

const root = join(import.meta.dirname, '../..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const require = createRequire(import.meta.url);

interface FileSet {
  from: string;
  to: string;
}
interface LinuxPackage {
  depends: string[];
  afterInstall: string;
  afterRemove: string;
  fpm: string[];
}
interface Config {
  productName: string;
  files: string[];
  asar: boolean;
  extraResources: FileSet[];
  electronFuses: Record<string, boolean>;
  linux: { target: string[]; executableName: string; extraResources: FileSet[] };
  deb: LinuxPackage;
  rpm: LinuxPackage;
  mac: { target: string; extraResources: FileSet[] };
  pkg: { scripts: string; installLocation: string };
  win: { target: string; extraResources: FileSet[] };
  nsis: { perMachine: boolean; oneClick: boolean; include: string };
  directories: { buildResources: string };
}

const config = parse(read('electron-builder.yml')) as Config;

/** fpm's `src=dst` file arguments as a map from installed path to source. */
function installedFiles(pkg: LinuxPackage): Map<string, string> {
  return new Map(
    pkg.fpm
      .filter((a) => !a.startsWith('--'))
      .map((a) => {
        const [src, dst] = a.split('=');
        return [dst!, src!];
      }),
  );
}

/** `Key=value` lines of a systemd unit, all values per key. */
function unitSettings(text: string): Map<string, string[]> {
  const settings = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (m) settings.set(m[1]!, [...(settings.get(m[1]!) ?? []), m[2]!]);
  }
  return settings;
}

describe('electron-builder.yml', () => {
  it("passes electron-builder's own configuration schema", async () => {
    const { validateConfiguration } = require('app-builder-lib/out/util/config/config') as {
      validateConfiguration: (c: unknown, logger: unknown) => Promise<void>;
    };
    const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
    await expect(validateConfiguration(structuredClone(config), new DebugLogger(false))).resolves.toBeUndefined();
    // and the schema does catch mistakes
    const broken = { ...structuredClone(config), deb: { ...config.deb, afterInstal: 'typo.sh' } };
    await expect(validateConfiguration(broken, new DebugLogger(false))).rejects.toThrow(/configuration\.deb/);
  });

  it('builds deb, rpm and AppImage on Linux, a pkg on macOS and a per-machine NSIS installer on Windows', () => {
    expect(config.linux.target).toEqual(['deb', 'rpm', 'AppImage']);
    expect(config.mac.target).toBe('pkg');
    expect(config.win.target).toBe('nsis');
    expect(config.nsis).toMatchObject({ perMachine: true, oneClick: false });
  });

  it('installs the app, the helper, the unit, the group, the polkit action and the CLI with deb and rpm', () => {
    for (const pkg of [config.deb, config.rpm]) {
      const files = installedFiles(pkg);
      // The path main/helper/locate.ts looks for on Linux.
      const helperPath = '/usr/lib/causeway/causeway-helper';
      expect(helperCandidates({ platform: 'linux', env: {} })).toContain(helperPath);
      expect(files.get(helperPath)).toBe('native/target/release/causeway-helper');
      expect(files.get('/usr/lib/systemd/system/causeway-helper.service')).toBe('resources/linux/causeway-helper.service');
      expect(files.get('/usr/lib/sysusers.d/causeway.conf')).toBe('resources/linux/causeway.sysusers.conf');
      expect(files.get('/usr/share/polkit-1/actions/org.causeway.helper.policy')).toBe('resources/linux/org.causeway.helper.policy');
      expect(files.get('/usr/bin/causeway')).toBe('resources/linux/causeway-cli.sh');
      // The scripts scripts/linux-package-scripts.mjs writes: the same service parts as the
      // causeway packages (resources/linux/nfpm.yaml).
      const scripts = writePackageScripts('desktop');
      expect(join(root, pkg.afterInstall)).toBe(scripts['after-install']);
      expect(join(root, pkg.afterRemove)).toBe(scripts['after-remove']);
      expect(pkg.fpm).toContain(`--before-remove=${relative(root, scripts['before-remove'])}`);
      expect(pkg.depends).toEqual(expect.arrayContaining(['nftables', 'systemd']));
    }
  });

  it('has every packaged source file in place, executable where it must be', () => {
    writePackageScripts('desktop');
    const sources = [
      ...config.extraResources.map((r) => r.from),
      ...config.linux.extraResources.map((r) => r.from),
      ...config.mac.extraResources.map((r) => r.from),
      ...[...installedFiles(config.deb).values()],
      config.deb.afterInstall,
      config.deb.afterRemove,
      config.nsis.include,
    ];
    for (const src of sources) expect(existsSync(join(root, src)), `${src} is missing`).toBe(true);
    const executables = [
      config.deb.afterInstall,
      config.deb.afterRemove,
      'resources/linux/causeway-cli.sh',
      'native/target/release/causeway-helper',
      join(config.directories.buildResources, config.pkg.scripts, 'preinstall'),
      join(config.directories.buildResources, config.pkg.scripts, 'postinstall'),
    ];
    for (const exe of executables) expect(() => accessSync(join(root, exe), constants.X_OK), `${exe} is not executable`).not.toThrow();
    // The helper stays out of the asar (a root process must never run code from inside it).
    expect(config.files.some((f) => f.includes('native'))).toBe(false);
  });

  it('keeps the CLI wrapper in step with the product name, executable name and CLI bundle location', () => {
    const cli = config.extraResources.find((r) => r.from === 'dist/cli/causeway.cjs');
    expect(cli?.to).toBe('cli/causeway.cjs');
    const wrapper = read('resources/linux/causeway-cli.sh');
    const app = `/opt/${config.productName}/${config.linux.executableName}`;
    expect(wrapper).toContain(`ELECTRON_RUN_AS_NODE=1 exec ${app} /opt/${config.productName}/resources/${cli?.to} "$@"`);
    // ...which needs the runAsNode fuse; the fuses that would let anyone inject code stay off.
    expect(config.electronFuses).toMatchObject({
      runAsNode: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      onlyLoadAppFromAsar: true,
    });
    expect(config.asar).toBe(true);
  });

  it('gives macOS a launchd daemon running a root-owned copy of the helper in service mode', () => {
    const plist = read('resources/macos/org.causeway.helper.plist');
    const args = [...(/<key>ProgramArguments<\/key>\s*<array>([\s\S]*?)<\/array>/.exec(plist)?.[1] ?? '').matchAll(/<string>([^<]*)<\/string>/g)].map(
      (m) => m[1],
    );
    expect(args).toEqual(['/Library/PrivilegedHelperTools/org.causeway.helper', '--service', '--socket', '/var/run/causeway/helper.sock']);
    expect(plist).toMatch(/<key>UserName<\/key>\s*<string>root<\/string>/);
    const postinstall = read(join(config.directories.buildResources, config.pkg.scripts, 'postinstall'));
    expect(postinstall).toContain('HELPER=/Library/PrivilegedHelperTools/org.causeway.helper');
    expect(postinstall).toContain('launchctl bootstrap system');
    expect(postinstall).toMatch(/dseditgroup -o create .* causeway/);
    const plistResource = config.mac.extraResources.find((r) => r.from === 'resources/macos/org.causeway.helper.plist');
    expect(postinstall).toContain(`$APP/Contents/Resources/${plistResource?.to}`);
    for (const name of ['preinstall', 'postinstall']) {
      const check = spawnSync('bash', ['-n', join(root, config.directories.buildResources, config.pkg.scripts, name)], { encoding: 'utf8' });
      expect(check.status, `${name}: ${check.stderr}`).toBe(0);
    }
  });

  it('registers and removes the Windows service from the NSIS hooks', () => {
    const nsh = read(config.nsis.include);
    const helper = config.win.extraResources.find((r) => r.to.endsWith('causeway-helper.exe'));
    expect(nsh).toContain(`binPath= "\\"$INSTDIR\\resources\\${helper?.to.replaceAll('/', '\\')}\\" --service"`);
    expect(nsh).toMatch(/customInstall[\s\S]*sc\.exe start CausewayHelper/);
    expect(nsh).toMatch(/customUnInstall[\s\S]*sc\.exe delete CausewayHelper/);
    // The pipe's DACL admits the `causeway` group: the installer creates it, with the user in it.
    expect(nsh).toMatch(/customInstall[\s\S]*net\.exe localgroup causeway \/add[\s\S]*sc\.exe create/);
    // wintun.dll goes beside the helper, which loads it from its own folder only.
    const dll = config.win.extraResources.find((r) => r.to.endsWith('wintun.dll'));
    expect(dll?.to).toBe(helper?.to.replace('causeway-helper.exe', 'wintun.dll'));
  });
});

describe('the systemd unit', () => {
  const unit = unitSettings(read('resources/linux/causeway-helper.service'));
  const one = (key: string) => unit.get(key)?.join(' ');

  it('runs the installed helper in service mode, restarts it on failure and waits for READY', () => {
    expect(one('ExecStart')).toBe('/usr/lib/causeway/causeway-helper --service');
    expect(one('Restart')).toBe('on-failure');
    expect(one('Type')).toBe('notify');
    expect(one('WantedBy')).toBe('multi-user.target');
  });

  it('puts the socket where the app looks, for the causeway group', () => {
    expect(SERVICE_SOCKET).toBe(`/run/${one('RuntimeDirectory')}/helper.sock`);
    expect(one('Group')).toBe('causeway');
    expect(read('resources/linux/causeway.sysusers.conf')).toMatch(/^g causeway -$/m);
  });

  it('is hardened: only CAP_NET_ADMIN, read-only system, only the TUN device', () => {
    expect(one('CapabilityBoundingSet')).toBe('CAP_NET_ADMIN');
    expect(one('AmbientCapabilities')).toBe('CAP_NET_ADMIN');
    expect(one('NoNewPrivileges')).toBe('yes');
    expect(one('ProtectSystem')).toBe('strict');
    expect(one('ProtectHome')).toBe('yes');
    expect(one('PrivateTmp')).toBe('yes');
    expect(one('DevicePolicy')).toBe('closed');
    expect(one('DeviceAllow')).toBe('/dev/net/tun rw');
    expect(one('RestrictAddressFamilies')).toBe('AF_UNIX AF_NETLINK AF_INET AF_INET6');
    expect(one('SystemCallFilter')).toBe('@system-service');
    // What the DNS fallbacks and the crash journal must be able to write.
    expect(one('ReadWritePaths')?.split(' ')).toEqual(expect.arrayContaining(['-/etc/resolv.conf', '-/run/resolvconf']));
    expect(one('StateDirectory')).toBe('causeway');
  });
});
