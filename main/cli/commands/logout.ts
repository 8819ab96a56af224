// causeway logout <profile>
import { parseCommandArgs } from '../parse-args.js';
import { CliError, homeOf, openSecrets, printJson, type Command } from '../context.js';
import { profilesDir } from '../../profiles/paths.js';
import { ProfileStore } from '../../profiles/store.js';
import { OidcLogin } from '../../auth/oidc.js';
import { safeOpener, systemBrowserOpener } from '../../auth/browser.js';
import { passwordAccount, usernameAccount } from '../../connection/manager.js';

const usage = `usage: causeway logout <profile> [--json]

Signs a profile out on this computer: revokes its single sign-on refresh token at the identity
provider (when it has one; forgotten locally even if the provider cannot be reached) and forgets
the saved username and password. The next connect asks again. --json prints
{profile, hadToken, revoked, forgotPassword}.`;

export const logoutCommand: Command = {
  summary: 'forget saved sign-in (tokens, password) of a profile',
  usage,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean', default: false } }, usage);
    if (positionals.length !== 1) throw new CliError(`give exactly one profile\n${usage}`);
    const secrets = await openSecrets(io);
    const profile = new ProfileStore(profilesDir({ env: io.env, home: homeOf(io) }), secrets).resolve(positionals[0]!);
    const oidc = await new OidcLogin({ secrets, opener: safeOpener(systemBrowserOpener()) }).logout(profile.id, profile.oidc ?? null);
    const forgotPassword = (await secrets.get(passwordAccount(profile.id))) !== null;
    await secrets.delete(passwordAccount(profile.id));
    await secrets.delete(usernameAccount(profile.id));
    if (values.json) {
      printJson(io, { profile: profile.id, ...oidc, forgotPassword });
      return 0;
    }
    const done = [
      oidc.hadToken ? `single sign-on token ${oidc.revoked ? 'revoked and forgotten' : 'forgotten (the provider could not be told)'}` : null,
      forgotPassword ? 'saved password forgotten' : null,
    ].filter(Boolean);
    io.stdout(`${profile.name}: ${done.length ? done.join('; ') : 'nothing was saved'}.\n`);
    return 0;
  },
};
