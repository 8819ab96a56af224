// Federated login wired into the connection manager (the LoginFlows seam of main/connection):
//  - AWS SAML profiles (`auth-federate`): first leg N/A / ACS::35001, then the browser login
//    answering the CRV1 challenge (aws-saml.ts);
//  - OIDC profiles: a token as the password, refreshed without a browser while possible (oidc.ts);
//  - AUTH_PENDING WEB_AUTH / OPEN_URL: open the server's URL (only https or loopback http).
// Every secret obtained here is registered with the session so its log can never show it.
import type { LoginContext, LoginFlows } from '../connection/login-hooks.js';
import { AwsSamlFlow, type AwsSamlStatus } from './aws-saml.js';
import { checkOpenableUrl, type BrowserOpener } from './browser.js';
import { OidcLogin, type DeviceCodePrompt, type OidcDeps, type OidcStatus } from './oidc.js';
import { webAuthUrl } from './pending-auth.js';

/** Things the user must see that are not connection states (the device code above all). */
export type LoginNotice =
  | { kind: 'device-code'; profileId: string; prompt: DeviceCodePrompt }
  | { kind: 'waiting-for-browser'; profileId: string; host: string; timeoutSec: number };

export interface LoginFlowOptions {
  /** Opens sign-in pages (the CLI's prints the URL too, and honours --no-browser). */
  opener: BrowserOpener;
  /** OIDC interaction: the system browser (default) or the device authorization grant. */
  oidcMode?: 'browser' | 'device';
  notify?: (notice: LoginNotice) => void;
  /** Electron passes net.fetch for the OIDC provider calls. */
  fetch?: OidcDeps['fetch'];
  acsPort?: number;
  acsTimeoutMs?: number;
  oidcBrowserTimeoutMs?: number;
}

/**
 * How long a browser sign-in may take: CAUSEWAY_SIGNIN_TIMEOUT_SEC (10 s to 1 h), default 5 minutes.
 * Bad values are ignored rather than fatal: this is a comfort setting, not a security one.
 */
export function signInTimeoutMs(env: NodeJS.ProcessEnv): number {
  const sec = Number(env.CAUSEWAY_SIGNIN_TIMEOUT_SEC);
  return Number.isInteger(sec) && sec >= 10 && sec <= 3600 ? sec * 1000 : 5 * 60_000;
}

export function createLoginFlows(options: LoginFlowOptions): LoginFlows {
  const aws = new AwsSamlFlow({
    opener: options.opener,
    ...(options.acsPort !== undefined ? { acsPort: options.acsPort } : {}),
    ...(options.acsTimeoutMs !== undefined ? { acsTimeoutMs: options.acsTimeoutMs } : {}),
  });
  const notify = options.notify ?? (() => undefined);

  return {
    async credentialsBeforeConnect(ctx: LoginContext) {
      if (ctx.profile.auth.kind === 'aws-saml') return aws.firstLegCredentials();
      const settings = ctx.profile.oidc;
      if (!settings) return null;
      const oidc = new OidcLogin({
        secrets: ctx.secrets,
        opener: options.opener,
        ...(options.fetch ? { fetch: options.fetch } : {}),
        ...(options.oidcBrowserTimeoutMs !== undefined ? { browserTimeoutMs: options.oidcBrowserTimeoutMs } : {}),
      });
      const creds = await oidc.credentials(ctx.profile.id, settings, {
        mode: options.oidcMode ?? 'browser',
        signal: ctx.signal,
        status: (s: OidcStatus) => {
          if (s.kind === 'refreshing') ctx.log(`renewing the sign-in with ${new URL(settings.issuer).host}`);
          if (s.kind === 'waiting-for-browser') {
            ctx.log(`waiting for the browser sign-in at ${s.host}`);
            notify({ kind: 'waiting-for-browser', profileId: ctx.profile.id, host: s.host, timeoutSec: s.timeoutSec });
          }
          if (s.kind === 'device-code') {
            ctx.log(`device sign-in started at ${new URL(s.prompt.verificationUri).host}`);
            notify({ kind: 'device-code', profileId: ctx.profile.id, prompt: s.prompt });
          }
        },
      });
      ctx.addSecret(creds.password);
      return creds;
    },

    async answerCrv1(ctx, challenge) {
      if (ctx.profile.auth.kind !== 'aws-saml') return null;
      const response = await aws.answer(ctx.sessionId, challenge.text, ctx.signal, (s: AwsSamlStatus) => {
        if (s.kind === 'opening-browser') ctx.log(`opening the browser to sign in at ${s.host}`);
        if (s.kind === 'waiting-for-browser') {
          ctx.log(`waiting for the browser sign-in (up to ${s.timeoutSec} s)`);
          notify({ kind: 'waiting-for-browser', profileId: ctx.profile.id, host: 'identity provider', timeoutSec: s.timeoutSec });
        }
        if (s.kind === 'browser-done') ctx.log('sign-in received from the browser');
      });
      ctx.addSecret(response);
      return response;
    },

    async openAuthUrl(ctx, url, timeoutSec) {
      const target = checkOpenableUrl(webAuthUrl(url));
      await options.opener.open(target.href);
      ctx.log(`waiting for the browser sign-in at ${target.host} (the server waits ${timeoutSec} s)`);
      notify({ kind: 'waiting-for-browser', profileId: ctx.profile.id, host: target.host, timeoutSec });
    },

    connected: (sessionId) => aws.connected(sessionId),
    ended: (sessionId) => aws.ended(sessionId),
  };
}
