// openvpn `auth-user-pass-verify … via-env` script for the OIDC test server: the password must be
// an ID token signed by the test provider (keys from its JWKS, saved to a file by the test because
// the server's namespace cannot reach 127.0.0.1 of the test), for this client id and issuer, not
// expired, whose username claim equals the username sent. Outcomes (never the token) are appended
// to a log the test reads; the token itself goes to the secret-scan list.
//   usage: node verify-token.mjs <jwks.json> <issuer> <client id> <claim> <outcome log> <secrets file>
import { appendFileSync, readFileSync } from 'node:fs';
import { createLocalJWKSet, jwtVerify } from 'jose';

const [jwksFile, issuer, audience, claim, outcomeLog, secretsFile] = process.argv.slice(2);
const username = process.env.username ?? '';
const token = process.env.password ?? '';
if (token.length >= 8) appendFileSync(secretsFile, `${token}\n`);
try {
  const jwks = createLocalJWKSet(JSON.parse(readFileSync(jwksFile, 'utf8')));
  const { payload } = await jwtVerify(token, jwks, { issuer, audience, algorithms: ['RS256'] });
  if (payload[claim] !== username) throw new Error(`the ${claim} claim does not match the username`);
  appendFileSync(outcomeLog, `accepted ${username}\n`);
  process.exit(0);
} catch (e) {
  appendFileSync(outcomeLog, `refused ${username}: ${e.code ?? e.name}\n`);
  process.exit(1);
}
