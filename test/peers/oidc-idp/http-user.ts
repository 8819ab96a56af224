// A browserless "user" for oidc-provider's devInteractions and device-flow pages: follows
// redirects with a cookie jar, submits each page's form (hidden fields as given, plus the login
// on the sign-in page), and stops at the app's loopback redirect (which it requests, as a browser
// would) or at a page without a form (the device flow's "Sign-in Success"). Fast enough for unit
// tests; the end-to-end suites use real Chromium instead.

export async function signInOverHttp(startUrl: string, login: string): Promise<string> {
  const jar = new Map<string, string>();
  let url = startUrl;
  let method = 'GET';
  let body: URLSearchParams | undefined;
  for (let hop = 0; hop < 30; hop++) {
    const res = await fetch(url, {
      method,
      ...(body ? { body } : {}),
      redirect: 'manual',
      headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') },
    });
    for (const c of res.headers.getSetCookie()) {
      const pair = c.split(';')[0] ?? '';
      const i = pair.indexOf('=');
      jar.set(pair.slice(0, i).trim(), pair.slice(i + 1));
    }
    if (res.status >= 300 && res.status < 400) {
      url = new URL(res.headers.get('location') ?? '', url).href;
      method = 'GET';
      body = undefined;
      const next = new URL(url);
      if (next.pathname === '/callback' && next.hostname === '127.0.0.1') {
        return fetch(url).then((r) => r.text()).catch((e: Error) => `callback unreachable: ${e.message}`);
      }
      continue;
    }
    const html = await res.text();
    const form = /<form\b([^>]*)>([\s\S]*?)<\/form>/.exec(html);
    if (!form) return html; // a final page (device flow success, or an error page)
    const action = /action="([^"]+)"/.exec(form[1] ?? '')?.[1] ?? url;
    const fields = new URLSearchParams();
    for (const input of (form[2] ?? '').matchAll(/<input\b[^>]*>/g)) {
      const name = /name="([^"]+)"/.exec(input[0])?.[1];
      const value = /value="([^"]*)"/.exec(input[0])?.[1] ?? '';
      if (name && /type="hidden"/.test(input[0])) fields.set(name, value.replaceAll('&amp;', '&'));
    }
    if (/name="login"/.test(form[2] ?? '')) {
      fields.set('login', login);
      fields.set('password', 'any');
    }
    method = 'POST';
    url = new URL(action.replaceAll('&amp;', '&'), url).href;
    body = fields;
  }
  throw new Error('sign-in did not finish after 30 steps');
}
