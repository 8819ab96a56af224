// causeway import <file> [--name N] [--dry-run] [--json]
// causeway import --from-aws-vpn-client [--dry-run] [--json]
import { migrateAwsVpnClient, AwsMigrationError } from '../../profiles/aws-vpn-client.js';
import { importOvpnFile, type AskKeyPassphrase, type ImportOutcome } from '../../profiles/importer.js';
import { awsVpnClientDir } from '../../profiles/paths.js';
import { resolve } from 'node:path';
import type { ProfileStore } from '../../profiles/store.js';
import { CliError, cliTerminal, homeOf, openProfileStore, printJson, type CliIO, type Command } from '../context.js';
import { parseCommandArgs } from '../parse-args.js';
import { OidcSettingsError, parseOidcSettings, type OidcSettings } from '../../auth/oidc-settings.js';
import { describeProfile, formatIssue, profileView } from '../profile-view.js';

const usage = `usage: causeway import <file.ovpn> [--name NAME] [--dry-run] [--json]
         [--oidc-issuer URL --oidc-client-id ID [--oidc-scopes S] [--oidc-username-claim C] [--oidc-token id_token|access_token]]
       causeway import --from-aws-vpn-client [--dry-run] [--json]

Checks an OpenVPN profile against Causeway's import policy and stores it. Directives that would
run programs or touch files are removed (each listed as a warning); profiles that would weaken
security are refused (each reason listed). Files the profile names (ca ca.crt) are read from
the profile's folder only. --dry-run checks without storing; --json prints
{ok, profile, warnings[], errors[]}. --from-aws-vpn-client imports every profile of the
official AWS VPN Client. The --oidc-* options make the profile sign in with OpenID Connect:
the token (default id_token) is sent as the password and the claim (default sub) as the username.

A passphrase-protected private key (PEM, either OpenSSL format) or PKCS#12 bundle is opened with
the passphrase in the file \`askpass <file>\` names (next to the profile), else its passphrase is
asked on the terminal (up to 3 tries), or read as a line of a non-terminal stdin; --json announces
it on stdout first as {"event":"prompt","kind":"passphrase","purpose":"private-key"|"pkcs12",
"retry","file"}. The decrypted key goes to the secret store; the passphrase is never stored.`;

/** Asks for an encrypted key's passphrase on the terminal; with --json announced as a prompt event first. */
function terminalKeyPassphrase(io: CliIO, json: boolean): AskKeyPassphrase {
  return async ({ locked, wrong, fileName }) => {
    const purpose = locked === 'key' ? 'private-key' : 'pkcs12';
    if (json) io.stdout(`${JSON.stringify({ event: 'prompt', kind: 'passphrase', purpose, retry: wrong, file: fileName })}\n`);
    const t = cliTerminal(io);
    if (wrong) t.say('Wrong passphrase. Try again.\n');
    const what = locked === 'key' ? 'the private key' : 'the PKCS#12 bundle';
    return t.question(`Passphrase of ${what} in ${fileName ?? 'the profile'}: `, { secret: true });
  };
}

/** OIDC settings from the --oidc-* options, or null when none were given. */
function oidcFromArgs(values: Record<string, string | boolean | undefined>): OidcSettings | null {
  const given = ['oidc-issuer', 'oidc-client-id', 'oidc-scopes', 'oidc-username-claim', 'oidc-token'].filter((k) => values[k] !== undefined);
  if (!given.length) return null;
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  try {
    return parseOidcSettings({
      issuer: str('oidc-issuer'),
      clientId: str('oidc-client-id'),
      scopes: str('oidc-scopes'),
      usernameClaim: str('oidc-username-claim'),
      token: str('oidc-token'),
    });
  } catch (e) {
    if (e instanceof OidcSettingsError) throw new CliError(e.message);
    throw e;
  }
}

function outcomeJson(o: ImportOutcome, store: ProfileStore) {
  return { ok: o.ok, profile: o.profile ? profileView(o.profile) : null, secretStore: store.secretBackend, warnings: o.warnings, errors: o.errors };
}

function report(io: CliIO, store: ProfileStore, label: string, o: ImportOutcome, dryRun: boolean, json: boolean): void {
  if (!json) {
    for (const w of o.warnings) io.stderr(`${formatIssue('warning', w)}\n`);
    if (o.ok && o.profile) {
      io.stdout(dryRun ? `${label} can be imported (dry run, nothing stored):\n` : `Imported ${label}:\n`);
      io.stdout(describeProfile(o.profile));
      if (!dryRun && store.secretBackend === 'file') io.stderr(`note: secrets are kept in ${store.secretsWhere}\n`);
    }
  }
  if (!o.ok) {
    io.stderr(`causeway: ${label} was not imported:\n`);
    for (const e of o.errors) io.stderr(`  ${formatIssue('error', e)}\n`);
  }
}

async function fromAwsVpnClient(io: CliIO, dryRun: boolean, json: boolean): Promise<number> {
  const store = await openProfileStore(io, { dryRun });
  const dir = awsVpnClientDir({ env: io.env, home: homeOf(io) });
  let items;
  try {
    items = await migrateAwsVpnClient(store, dir, { dryRun });
  } catch (e) {
    if (e instanceof AwsMigrationError) throw new CliError(e.message);
    throw e;
  }
  const ok = items.every((i) => i.status !== 'failed');
  if (json) {
    printJson(io, {
      ok,
      results: items.map((i) => ({ name: i.name, status: i.status, reason: i.reason, ...(i.outcome ? outcomeJson(i.outcome, store) : { profile: null, warnings: [], errors: [] }) })),
    });
  }
  for (const i of items) {
    if (i.status === 'skipped') {
      if (!json) io.stdout(`Skipped "${i.name}": ${i.reason}\n`);
    } else report(io, store, `AWS VPN Client profile "${i.name}"`, i.outcome!, dryRun, json);
  }
  if (!json) io.stdout(`${items.filter((i) => i.status === 'imported').length} of ${items.length} AWS VPN Client profiles ${dryRun ? 'can be' : 'were'} imported.\n`);
  return ok ? 0 : 1;
}

export const importCommand: Command = {
  summary: 'import an .ovpn profile (or every AWS VPN Client profile)',
  usage,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(
      args,
      {
        name: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        'from-aws-vpn-client': { type: 'boolean', default: false },
        'oidc-issuer': { type: 'string' },
        'oidc-client-id': { type: 'string' },
        'oidc-scopes': { type: 'string' },
        'oidc-username-claim': { type: 'string' },
        'oidc-token': { type: 'string' },
      },
      usage,
    );
    const dryRun = values['dry-run'] === true;
    const json = values.json === true;
    if (values['from-aws-vpn-client']) {
      if (positionals.length || values.name !== undefined) throw new CliError(`--from-aws-vpn-client takes no file and no --name\n${usage}`);
      return fromAwsVpnClient(io, dryRun, json);
    }
    if (positionals.length !== 1) throw new CliError(`import needs exactly one profile file\n${usage}`);
    const file = resolve(io.cwd, positionals[0]!);
    const store = await openProfileStore(io, { dryRun });
    const oidc = oidcFromArgs(values);
    const outcome = await importOvpnFile(store, file, {
      ...(values.name !== undefined ? { name: values.name } : {}),
      dryRun,
      askPassphrase: terminalKeyPassphrase(io, json),
      ...(oidc ? { adjust: (settings) => ({ ...settings, oidc }) } : {}),
    });
    if (json) printJson(io, outcomeJson(outcome, store));
    report(io, store, `"${positionals[0]}"`, outcome, dryRun, json);
    return outcome.ok ? 0 : 1;
  },
};
