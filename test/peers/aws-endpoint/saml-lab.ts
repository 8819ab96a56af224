// The SAML federated-login lab shared by the tests that sign in through AWS's flow: the namespace
// lab, a SimpleSAMLphp IdP and the AWS-like endpoint trusting it, with a login banner and a
// required group.
import { Lab } from '../lab/index.js';
import { startSimpleSamlIdp, type SimpleSamlIdp } from '../saml-idp/simplesamlphp.js';
import { recordSecret } from '../sso-common/record-secret.js';
import { startAwsEndpoint, type AwsEndpoint } from './endpoint.js';

/** The banner the endpoint shows after login. */
export const BANNER = ['Welcome to the Example Corp VPN.', 'Use of this system is monitored.'];
/** What the endpoint answers a user outside the required group `vpn-users`. */
export const DENIED = 'Your account is not allowed to use this VPN. Contact it-help@example.test.';

export interface SamlLab {
  lab: Lab;
  idp: SimpleSamlIdp;
  endpoint: AwsEndpoint;
  /** Stops the endpoint, the IdP and the lab, in that order. */
  stop(): Promise<void>;
}

/**
 * Starts the lab, the IdP (its users' passwords recorded as secrets) and the endpoint; `onSecret`
 * sees every SAML response the endpoint receives. What started is stopped again if a part fails.
 */
export async function startSamlLab(options: { onSecret?: (secret: string) => void } = {}): Promise<SamlLab> {
  const lab = await Lab.create();
  let idp: SimpleSamlIdp | undefined;
  try {
    idp = await startSimpleSamlIdp();
    for (const u of Object.values(idp.users)) recordSecret(u.password);
    const endpoint = await startAwsEndpoint(lab, {
      idp: { ssoUrl: idp.ssoUrl, certPem: idp.certPem },
      banner: BANNER,
      requiredGroup: 'vpn-users',
      deniedMessage: DENIED,
      onSecret: options.onSecret,
    });
    const started = idp;
    return {
      lab,
      idp: started,
      endpoint,
      async stop() {
        await endpoint.stop();
        await started.stop();
        await lab.close();
      },
    };
  } catch (e) {
    await idp?.stop();
    await lab.close();
    throw e;
  }
}
