// The ReadPkcs12 hook for profile import: opens a profile's PKCS#12 bundle (`pkcs12 x.p12` or
// `<pkcs12>`) with the CertStore's reader. OpenVPN profiles carry such bundles without a
// password; a password-protected one is refused with what to do instead.
import { ProfileError, type ReadPkcs12 } from '../../app/profile/index.js';
import { CertificateError, readPkcs12 } from '../certs/certificate.js';

export const readProfilePkcs12: ReadPkcs12 = (der) => {
  try {
    const bundle = readPkcs12(der, '');
    return { cert: bundle.cert, chain: bundle.chain, key: bundle.key };
  } catch (e) {
    if (!(e instanceof CertificateError)) throw e;
    if (/wrong password/.test(e.message)) {
      throw new ProfileError(
        'the PKCS#12 bundle is protected by a password, which profile import cannot ask for; remove the pkcs12 line, import the profile, then add the certificate with `causeway cert import`',
      );
    }
    throw new ProfileError(`the PKCS#12 bundle cannot be read: ${e.message}`);
  }
};
