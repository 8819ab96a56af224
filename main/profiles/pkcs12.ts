// The ReadPkcs12 hook for profile import: opens a profile's PKCS#12 bundle (`pkcs12 x.p12` or
// `<pkcs12>`) with the CertStore's reader, with the password app/profile hands it ("" first, as
// OpenVPN profiles mostly carry bundles without one); a wrong password is null, so import can ask.
import { ProfileError, type ReadPkcs12 } from '../../app/profile/index.js';
import { CertificateError, readPkcs12, WrongPassphraseError } from '../certs/certificate.js';

export const readProfilePkcs12: ReadPkcs12 = (der, password) => {
  try {
    const bundle = readPkcs12(der, password);
    return { cert: bundle.cert, chain: bundle.chain, key: bundle.key };
  } catch (e) {
    if (e instanceof WrongPassphraseError) return null;
    if (e instanceof CertificateError) throw new ProfileError(`the PKCS#12 bundle cannot be read: ${e.message}`);
    throw e;
  }
};
