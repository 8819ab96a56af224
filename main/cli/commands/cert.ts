// causeway cert import|list|show|remove|attach
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseCommandArgs } from '../parse-args.js';
import { CliError, cliTerminal, homeOf, openSecrets, printJson, type CliIO, type Command } from '../context.js';
import { configDir, profilesDir } from '../../profiles/paths.js';
import { ProfileStore } from '../../profiles/store.js';
import { CertStore, type StoredCertificate } from '../../certs/store.js';
import { CertificateError, daysLeft, expiryStatus, expiryWarning, WrongPassphraseError } from '../../certs/certificate.js';
import { PASSPHRASE_TRIES } from '../../profiles/importer.js';

const usage = `usage: causeway cert <subcommand>

  import <file.p12|cert.pem> [--key key.pem] [--name N] [--attach <profile>] [--json]
      Imports a client certificate: a PKCS#12 file (its password is asked on the terminal, or
      read from the first line of stdin when stdin is not a terminal), or a PEM certificate with
      its PEM key (in the same file or --key; an encrypted key's passphrase is asked the same
      way). A wrong password or passphrase is asked again, 3 tries in all. The private key goes to the OS keyring. --attach gives it to a profile that has no
      client certificate.
  list [--json]            certificates with their expiry
  show <cert> [--json]     subject, issuer, validity, key type, SHA-256 fingerprint
  attach <cert> <profile>  gives a profile without a client certificate this one
  remove <cert>            forgets a certificate and its key (attached profiles keep their copy)

<cert> is a certificate id or name; <profile> a profile id or name.`;

async function openStores(io: CliIO) {
  const secrets = await openSecrets(io);
  const platformEnv = { env: io.env, home: homeOf(io) };
  const profiles = new ProfileStore(profilesDir(platformEnv), secrets);
  return { profiles, certs: new CertStore(join(configDir(platformEnv), 'certificates'), secrets, profiles) };
}

function view(c: StoredCertificate) {
  return {
    id: c.id,
    name: c.name,
    ...c.details,
    status: expiryStatus(c.details),
    daysLeft: daysLeft(c.details),
    warning: expiryWarning(c.details),
    attachedTo: c.attachedTo,
    importedAt: c.importedAt,
  };
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----/;
const PEM_KEY = /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----[\s\S]+?-----END (?:[A-Z]+ )?PRIVATE KEY-----/;

async function askSecret(io: CliIO, question: string): Promise<string> {
  const answer = await cliTerminal(io).question(question, { secret: true });
  if (answer === null) throw new CliError('no answer given');
  return answer;
}

/** Asks for a passphrase and tries it; a wrong one is said so and asked again (PASSPHRASE_TRIES answers in all). */
async function withRetries<T>(io: CliIO, question: string, attempt: (secret: string) => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt(await askSecret(io, question));
    } catch (e) {
      if (!(e instanceof WrongPassphraseError) || tries === PASSPHRASE_TRIES) throw e;
      cliTerminal(io).say(`${e.message}. Try again.\n`);
    }
  }
}

async function importCert(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    args,
    { key: { type: 'string' }, name: { type: 'string' }, attach: { type: 'string' }, json: { type: 'boolean', default: false } },
    usage,
  );
  if (positionals.length !== 1) throw new CliError(`give exactly one certificate file\n${usage}`);
  const read = (p: string) => {
    try {
      return readFileSync(resolve(io.cwd, p));
    } catch (e) {
      throw new CliError(`cannot read ${p}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  };
  const bytes = read(positionals[0]!);
  const { certs } = await openStores(io);
  let stored: StoredCertificate;
  const text = bytes.toString('utf8');
  if (PEM_CERT.test(text)) {
    const keyText = values.key ? read(values.key).toString('utf8') : (PEM_KEY.exec(text)?.[0] ?? null);
    if (keyText === null) throw new CliError('this PEM file has no private key; give it with --key key.pem');
    if (!/ENCRYPTED/.test(keyText)) stored = await certs.importPem(text, keyText, { name: values.name });
    else stored = await withRetries(io, 'Passphrase of the private key: ', (passphrase) => certs.importPem(text, keyText, { passphrase, name: values.name }));
  } else {
    stored = await withRetries(io, 'Password of the PKCS#12 file: ', (password) => certs.importPkcs12(bytes, password, values.name));
  }
  const warnings: string[] = [];
  const expiry = expiryWarning(stored.details);
  if (expiry) warnings.push(expiry);
  if (values.attach) warnings.push(...(await certs.attach(stored.id, values.attach)).warnings);
  if (values.json) {
    printJson(io, { ok: true, certificate: view(certs.get(stored.id)), warnings });
  } else {
    io.stdout(`Imported "${stored.name}" (id ${stored.id}): ${stored.details.subject}, valid until ${stored.details.validTo.slice(0, 10)}\n`);
    if (values.attach) io.stdout(`Attached to profile ${values.attach}.\n`);
    for (const w of warnings) io.stderr(`warning: ${w}\n`);
  }
  return 0;
}

export const certCommand: Command = {
  summary: 'manage client certificates (import, list, show, attach, remove)',
  usage,
  async run(args, io) {
    const [sub, ...rest] = args;
    try {
      switch (sub) {
        case 'import':
          return await importCert(rest, io);
        case 'list': {
          const { values } = parseCommandArgs(rest, { json: { type: 'boolean', default: false } }, usage);
          const all = (await openStores(io)).certs.list().map(view);
          if (values.json) printJson(io, { certificates: all });
          else if (all.length === 0) io.stdout('No certificates. Import one with: causeway cert import <file.p12>\n');
          else for (const c of all) io.stdout(`${c.name}  ${c.id}  ${c.keyType}  until ${c.validTo.slice(0, 10)}  ${c.status}${c.attachedTo.length ? `  used by ${c.attachedTo.join(', ')}` : ''}\n`);
          return 0;
        }
        case 'show': {
          const { values, positionals } = parseCommandArgs(rest, { json: { type: 'boolean', default: false } }, usage);
          if (positionals.length !== 1) throw new CliError(`give exactly one certificate\n${usage}`);
          const c = view((await openStores(io)).certs.get(positionals[0]!));
          if (values.json) printJson(io, c);
          else {
            io.stdout(
              [
                `name         ${c.name} (${c.id})`,
                `subject      ${c.subject}`,
                `issuer       ${c.issuer}`,
                `valid        ${c.validFrom} to ${c.validTo} (${c.status}, ${c.daysLeft} days left)`,
                `key          ${c.keyType}`,
                `sha256       ${c.fingerprint256}`,
                `client auth  ${c.clientAuth === null ? 'any use' : c.clientAuth ? 'yes' : 'no (the server may refuse it)'}`,
                `used by      ${c.attachedTo.join(', ') || 'no profile'}`,
              ].join('\n') + '\n',
            );
            if (c.warning) io.stderr(`warning: ${c.warning}\n`);
          }
          return 0;
        }
        case 'attach': {
          const { positionals } = parseCommandArgs(rest, {}, usage);
          if (positionals.length !== 2) throw new CliError(`give a certificate and a profile\n${usage}`);
          const { profile, warnings } = await (await openStores(io)).certs.attach(positionals[0]!, positionals[1]!);
          io.stdout(`Profile "${profile.name}" now uses this certificate.\n`);
          for (const w of warnings) io.stderr(`warning: ${w}\n`);
          return 0;
        }
        case 'remove': {
          const { positionals } = parseCommandArgs(rest, {}, usage);
          if (positionals.length !== 1) throw new CliError(`give exactly one certificate\n${usage}`);
          const removed = await (await openStores(io)).certs.remove(positionals[0]!);
          io.stdout(`Removed "${removed.name}".\n`);
          return 0;
        }
        default:
          throw new CliError(sub ? `no cert subcommand "${sub}"\n${usage}` : usage);
      }
    } catch (e) {
      if (e instanceof CertificateError) throw new CliError(e.message);
      throw e;
    }
  },
};
