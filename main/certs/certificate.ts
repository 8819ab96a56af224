// Reading client certificates and keys: PKCS#12 through node-forge (pure JS, so OpenSSL 3's
// default PBES2/AES-256 with a SHA-256 MAC and `-legacy` RC2/3DES files both work, in Node and in
// Electron's BoringSSL alike), everything else
// through node:crypto (X509Certificate for details, createPrivateKey for RSA/EC/Ed25519 keys).
// Keys leave this module only as unencrypted PKCS#8 PEM, bound for the SecretStore.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import forge from 'node-forge';

export class CertificateError extends Error {
  override readonly name = 'CertificateError';
}

export interface CertificateDetails {
  subject: string;
  issuer: string;
  serialNumber: string;
  /** ISO 8601. */
  validFrom: string;
  validTo: string;
  /** e.g. "RSA 2048", "EC P-256", "ED25519". */
  keyType: string;
  /** SHA-256 fingerprint, colon-separated hex. */
  fingerprint256: string;
  isCa: boolean;
  /** Extended key usage allows TLS client authentication (null: no EKU extension = any use). */
  clientAuth: boolean | null;
}

/** A certificate with its private key, ready to be stored. */
export interface CertificateBundle {
  cert: string;
  /** Other certificates that came with it (intermediates), PEM, or null. */
  chain: string | null;
  /** PKCS#8 PEM, unencrypted: goes to the SecretStore only. */
  key: string;
  details: CertificateDetails;
}

const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';
const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export function certificateDetails(cert: X509Certificate): CertificateDetails {
  const key = cert.publicKey;
  const d = key.asymmetricKeyDetails ?? {};
  const type = (key.asymmetricKeyType ?? 'unknown').toUpperCase();
  const keyType = d.modulusLength ? `${type} ${d.modulusLength}` : d.namedCurve ? `${type} ${curveName(d.namedCurve)}` : type;
  return {
    subject: oneLine(cert.subject),
    issuer: oneLine(cert.issuer),
    serialNumber: cert.serialNumber,
    validFrom: new Date(cert.validFrom).toISOString(),
    validTo: new Date(cert.validTo).toISOString(),
    keyType,
    fingerprint256: cert.fingerprint256,
    isCa: cert.ca,
    clientAuth: cert.keyUsage === undefined ? null : cert.keyUsage.includes(CLIENT_AUTH_OID),
  };
}

function curveName(curve: string): string {
  return ({ prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' } as Record<string, string>)[curve] ?? curve;
}

function oneLine(dn: string): string {
  return dn.split('\n').filter(Boolean).join(', ');
}

/** Days from `now` until the certificate expires (negative once expired). */
export function daysLeft(details: CertificateDetails, now = Date.now()): number {
  return Math.floor((Date.parse(details.validTo) - now) / 86_400_000);
}

export type ExpiryStatus = 'valid' | 'expiring' | 'expired' | 'not-yet-valid';

export const EXPIRY_WARNING_DAYS = 30;

export function expiryStatus(details: CertificateDetails, now = Date.now()): ExpiryStatus {
  if (Date.parse(details.validFrom) > now) return 'not-yet-valid';
  if (Date.parse(details.validTo) <= now) return 'expired';
  return daysLeft(details, now) < EXPIRY_WARNING_DAYS ? 'expiring' : 'valid';
}

/** A sentence for the user when the certificate needs attention, else null. */
export function expiryWarning(details: CertificateDetails, now = Date.now()): string | null {
  switch (expiryStatus(details, now)) {
    case 'expired':
      return `the certificate expired on ${details.validTo.slice(0, 10)}; ask your administrator for a new one`;
    case 'not-yet-valid':
      return `the certificate is not valid before ${details.validFrom.slice(0, 10)}; check your computer's clock`;
    case 'expiring': {
      const days = daysLeft(details, now);
      return `the certificate expires in ${days} day${days === 1 ? '' : 's'} (${details.validTo.slice(0, 10)}); ask your administrator for a new one`;
    }
    case 'valid':
      return null;
  }
}

function parseCert(pem: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (e) {
    throw new CertificateError(`not a valid X.509 certificate: ${(e as Error).message}`);
  }
}

/** Picks the certificate that belongs to `key`; the others become the chain. */
function pair(certs: X509Certificate[], key: KeyObject): CertificateBundle {
  const leaf = certs.find((c) => c.checkPrivateKey(key));
  if (!leaf) throw new CertificateError('the private key does not belong to any of the certificates');
  const chain = certs.filter((c) => c !== leaf).map((c) => c.toString());
  return {
    cert: leaf.toString(),
    chain: chain.length ? chain.join('') : null,
    key: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    details: certificateDetails(leaf),
  };
}

/** PEM certificate (optionally followed by its chain) and PEM private key (optionally encrypted). */
export function readPemPair(certText: string, keyText: string, passphrase?: string): CertificateBundle {
  const pems = certText.match(PEM_CERT);
  if (!pems) throw new CertificateError('no PEM certificate found (expected -----BEGIN CERTIFICATE-----)');
  const certs = pems.map(parseCert);
  return pair(certs, loadPrivateKey(keyText, passphrase));
}

const ENCRYPTED_PEM = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type:\s*4,ENCRYPTED/;

/**
 * A PEM private key through node:crypto: PKCS#8, PKCS#1 RSA or SEC1 EC, and passphrase-protected
 * ones in both of OpenSSL's formats (PKCS#8 `ENCRYPTED PRIVATE KEY` with PBES2/AES or the older
 * PBES1 ciphers, and the traditional `Proc-Type: 4,ENCRYPTED` + `DEK-Info` form).
 */
function loadPrivateKey(keyText: string, passphrase?: string): KeyObject {
  const encrypted = ENCRYPTED_PEM.test(keyText);
  if (encrypted && passphrase === undefined) throw new CertificateError('the private key is encrypted; give its passphrase');
  let key: KeyObject;
  try {
    key = createPrivateKey(passphrase === undefined ? keyText : { key: keyText, passphrase });
  } catch (e) {
    // A wrong passphrase usually fails the padding check, else it decrypts to garbage that is no
    // key: either way the passphrase did not open it. The message never repeats what was given.
    if (encrypted) throw new WrongPassphraseError('wrong passphrase for the private key');
    throw new CertificateError(`not a valid private key: ${(e as Error).message}`);
  }
  if (key.type !== 'private') throw new CertificateError('the key file holds a public key, not a private key');
  return key;
}

/** The passphrase or password given does not open the key or the PKCS#12 file. */
export class WrongPassphraseError extends CertificateError {}

/** Decrypts a passphrase-protected PEM private key to unencrypted PKCS#8 PEM; null when the passphrase is wrong. */
export function decryptPrivateKey(keyText: string, passphrase: string): string | null {
  try {
    return loadPrivateKey(keyText, passphrase).export({ type: 'pkcs8', format: 'pem' }).toString();
  } catch (e) {
    if (e instanceof WrongPassphraseError) return null;
    throw e;
  }
}

/** A PKCS#12 (.p12/.pfx) file: client certificate, its key and any chain. */
export function readPkcs12(bytes: Uint8Array, password: string): CertificateBundle {
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    const asn1 = forge.asn1.fromDer(forge.util.createBuffer(Buffer.from(bytes).toString('binary')));
    p12 = forge.pkcs12.pkcs12FromAsn1(asn1, false, password);
  } catch (e) {
    const message = (e as Error).message ?? String(e);
    if (/MAC could not be verified|Invalid password/i.test(message)) {
      throw new WrongPassphraseError('wrong password for this PKCS#12 file');
    }
    throw new CertificateError(`not a readable PKCS#12 file: ${message}`);
  }
  const toDer = (a: forge.asn1.Asn1) => Buffer.from(forge.asn1.toDer(a).getBytes(), 'binary');
  const keys: KeyObject[] = [];
  for (const type of [forge.pki.oids.pkcs8ShroudedKeyBag!, forge.pki.oids.keyBag!]) {
    for (const bag of p12.getBags({ bagType: type })[type] ?? []) {
      // EC keys stay raw ASN.1 in forge (it only models RSA): hand node the PKCS#8 DER either way.
      const asn1 = bag.asn1 && !bag.key ? bag.asn1 : bag.key ? forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(bag.key)) : null;
      if (asn1) keys.push(createPrivateKey({ key: toDer(asn1), format: 'der', type: 'pkcs8' }));
    }
  }
  const certs: X509Certificate[] = [];
  const certBag = forge.pki.oids.certBag!;
  for (const bag of p12.getBags({ bagType: certBag })[certBag] ?? []) {
    const asn1 = bag.cert ? forge.pki.certificateToAsn1(bag.cert) : bag.asn1;
    if (asn1) certs.push(new X509Certificate(toDer(asn1)));
  }
  if (keys.length === 0) throw new CertificateError('the PKCS#12 file holds no private key');
  if (certs.length === 0) throw new CertificateError('the PKCS#12 file holds no certificate');
  if (keys.length > 1) throw new CertificateError('the PKCS#12 file holds several private keys; export one identity at a time');
  return pair(certs, keys[0]!);
}

/** Whether `cert` was issued by one of the CA certificates in `caBundle`. */
export function issuedByAny(certPem: string, caBundle: string): boolean {
  const cert = parseCert(certPem);
  return (caBundle.match(PEM_CERT) ?? []).some((ca) => {
    try {
      const caCert = new X509Certificate(ca);
      return cert.checkIssued(caCert) && cert.verify(caCert.publicKey);
    } catch {
      return false;
    }
  });
}
