// OpenVPN dynamic challenges (CRV1) as servers send them, including AWS Client VPN's variant.
//
// Wire form: `AUTH_FAILED,CRV1:<flags>:<state id>:<username field>:<challenge text>`.
// Real servers bend it in ways a strict parser would refuse:
//  - AWS state ids look like `instance-1/1234567890123456789/<uuid>` (slashes, never colons);
//  - AWS's username field is a Python bytes repr, `b'Ti9B'`, not plain base64;
//  - the challenge text is a full IdP URL, full of colons, so everything after the fourth
//    separator belongs to it;
//  - through a management interface the flags appear as `R,E`.

export interface Crv1Challenge {
  /** `E`: the answer may be shown while typed. */
  echo: boolean;
  /** `R`: an answer is required. */
  responseRequired: boolean;
  /** Opaque server state to send back as `CRV1::<stateId>::<answer>`. */
  stateId: string;
  /** The username the server associates with the challenge, decoded when possible. */
  username: string | null;
  /** What to show the user; for AWS SAML the IdP URL to open. */
  text: string;
}

export class Crv1ParseError extends Error {
  override name = 'Crv1ParseError';
}

const PREFIXES = ['AUTH_FAILED,', 'CRV1:'];

/** Parses a CRV1 challenge, with or without its `AUTH_FAILED,` and `CRV1:` prefixes. */
export function parseCrv1(raw: string): Crv1Challenge {
  let rest = raw.trim();
  for (const prefix of PREFIXES) {
    if (rest.startsWith(prefix)) rest = rest.slice(prefix.length);
  }
  const fields = splitAtMost(rest, ':', 4);
  if (fields.length < 4) {
    throw new Crv1ParseError('The server sent a malformed challenge (expected flags, state, username and text).');
  }
  const [flags, stateId, userField, text] = fields as [string, string, string, string];
  if (!stateId) throw new Crv1ParseError('The server sent a challenge without a state id.');
  if (/\s/.test(stateId)) throw new Crv1ParseError('The server sent a challenge whose state id contains spaces.');
  const flagSet = new Set(flags.split(',').map((f) => f.trim()));
  return {
    echo: flagSet.has('E'),
    responseRequired: flagSet.has('R'),
    stateId,
    username: decodeUsernameField(userField),
    text,
  };
}

/** The password that answers a challenge: `CRV1::<state id>::<answer>`. */
export function crv1Password(stateId: string, answer: string): string {
  return `CRV1::${stateId}::${answer}`;
}

/** Splits at the first `max - 1` separators; the last field keeps any further separators. */
function splitAtMost(s: string, sep: string, max: number): string[] {
  const out: string[] = [];
  let rest = s;
  while (out.length < max - 1) {
    const i = rest.indexOf(sep);
    if (i < 0) break;
    out.push(rest.slice(0, i));
    rest = rest.slice(i + sep.length);
  }
  out.push(rest);
  return out;
}

/**
 * Standard servers send base64; AWS sends `b'<base64>'`. Anything that does not decode to
 * printable text is kept as written rather than rejected: the username is informational.
 */
function decodeUsernameField(field: string): string | null {
  const inner = /^b'(.*)'$/.exec(field)?.[1] ?? field;
  if (!inner) return null;
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(inner) && inner.length % 4 === 0) {
    const decoded = Buffer.from(inner, 'base64').toString('utf8');
    if (/^[\x20-\x7e\u00a0-\uffff]+$/.test(decoded) && !decoded.includes('\ufffd')) return decoded;
  }
  return inner;
}
