// Hardening that applies to every web contents of the app: nothing but our own app:// files load,
// no navigation, no new windows, no webviews, no permissions (except writing to the clipboard,
// which the Logs view's Copy button uses), no spellcheck downloads.
import { app, session, protocol, type Session } from 'electron';
import { readFile } from 'node:fs/promises';
import { APP_SCHEME, isAppUrl, resolveAppFile } from '../desktop/app-protocol';

/**
 * Must run before `ready`: app:// behaves like a secure, standard origin, so the renderer's ES
 * module scripts load from it like from https (same origin; the request filter below still
 * refuses every other URL).
 */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true } }]);
}

const allowedPermissions = new Set(['clipboard-sanitized-write']);

export function hardenSession(rendererRoot: string, s: Session = session.defaultSession): void {
  s.protocol.handle(APP_SCHEME, async (request) => {
    const file = resolveAppFile(rendererRoot, request.url);
    if (!file) return new Response('Not found', { status: 404 });
    // Electron's fs reads inside the app's asar; no file:// privileges are needed (fuse off).
    const body = await readFile(file.path).catch(() => null);
    if (!body) return new Response('Not found', { status: 404 });
    return new Response(new Uint8Array(body), { status: 200, headers: { 'content-type': file.mimeType } });
  });
  s.setPermissionRequestHandler((_wc, permission, callback) => callback(allowedPermissions.has(permission)));
  s.setPermissionCheckHandler((_wc, permission) => allowedPermissions.has(permission));
  // A second line behind the CSP: the renderer has no reason to fetch anything but its own files.
  s.webRequest.onBeforeRequest((details, callback) => {
    callback({ cancel: !(isAppUrl(details.url) || details.url.startsWith('devtools://')) });
  });
  s.setSpellCheckerDictionaryDownloadURL('https://localhost.invalid/');
  s.setSpellCheckerEnabled(false);
}

export function denyNavigationEverywhere(): void {
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (e) => e.preventDefault());
    contents.on('will-redirect', (e) => e.preventDefault());
    contents.on('will-attach-webview', (e) => e.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
}
