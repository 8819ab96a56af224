// causeway set <profile> kill-switch on|off | allow-lan on|off [--json]
import type { LeakProtection } from '../../../app/profile/index.js';
import { CliError, openProfileStore, printJson, type Command } from '../context.js';
import { parseCommandArgs } from '../parse-args.js';
import { leakProtectionWords } from '../profile-view.js';

const SETTINGS: Record<string, keyof LeakProtection> = { 'kill-switch': 'killSwitch', 'allow-lan': 'allowLan' };

const usage = `usage: causeway set <profile> <setting> on|off [<setting> on|off] [--json]

Changes a stored profile's leak protection; the next connection uses it.
  kill-switch  on: while connected or reconnecting, nothing leaves the computer but the tunnel
               and the VPN server (default off; causeway connect --kill-switch for one connection)
  allow-lan    on: the local network (printers, file shares) stays reachable while the kill
               switch (or the IPv6 block) blocks the rest (default on)
New profiles get the defaults chosen in the app's Settings. --json prints {id, name, killSwitch, allowLan}.`;

function onOff(setting: string, value: string): boolean {
  if (value === 'on') return true;
  if (value === 'off') return false;
  throw new CliError(`${setting} is "on" or "off", not "${value}"\n${usage}`);
}

/** The settings and values given as pairs after the profile. */
function parseChanges(pairs: string[]): Partial<LeakProtection> {
  if (pairs.length === 0 || pairs.length % 2 !== 0) throw new CliError(`set needs a profile and one or more "<setting> on|off"\n${usage}`);
  const change: Partial<LeakProtection> = {};
  for (let i = 0; i < pairs.length; i += 2) {
    const setting = pairs[i]!;
    const field = Object.hasOwn(SETTINGS, setting) ? SETTINGS[setting] : undefined;
    if (!field) throw new CliError(`there is no setting "${setting}"; settings are ${Object.keys(SETTINGS).join(' and ')}\n${usage}`);
    change[field] = onOff(setting, pairs[i + 1]!);
  }
  return change;
}

export const setCommand: Command = {
  summary: "change a profile's kill switch or LAN access",
  usage,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean', default: false } }, usage);
    const [profileArg, ...pairs] = positionals;
    if (profileArg === undefined) throw new CliError(`set needs a profile and one or more "<setting> on|off"\n${usage}`);
    const change = parseChanges(pairs);
    const profile = (await openProfileStore(io)).setLeakProtection(profileArg, change);
    if (values.json) printJson(io, { id: profile.id, name: profile.name, killSwitch: profile.killSwitch, allowLan: profile.allowLan });
    else io.stdout(`"${profile.name}": ${leakProtectionWords(profile)} (from its next connection).\n`);
    return 0;
  },
};
