// Single sign-on in a real browser against a real OpenID provider
// (npm oidc-provider, started here on 127.0.0.1 with a registered client and
// accounts with verified e-mails; its development login and consent pages are
// driven like a person would). The demo owner configures SSO on the admin page
// and tests it; a member signs in and lands on the feed as themselves; a wrong
// state, a replayed code and a foreign domain are refused; a person of an
// allowed domain joins just in time; require-SSO blocks a member's password.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { DEMO, expectText, openIntegration, signIn, skipReason, unique, useBrowser } from '../helpers.mjs';

const skip = skipReason() ?? false;
const it = (name, fn) => test(name, { skip }, fn);

const CLIENT_ID = 'plaudit-e2e';
const CLIENT_SECRET = 'e2e-client-secret-0123456789';

describe('sso', () => {
  const env = useBrowser(skip);
  const newbie = `${unique('nia.')}@example.com`;
  const accounts = {
    stephane: { email: DEMO.member, email_verified: true, name: DEMO.memberName },
    newbie: { email: newbie, email_verified: true, name: 'Nia Newbie', given_name: 'Nia', family_name: 'Newbie' },
    foreigner: { email: 'eve@elsewhere.test', email_verified: true, name: 'Eve Elsewhere' },
  };
  const op = { issuer: undefined, server: undefined };

  before(async () => {
    if (skip) return;
    const { default: Provider } = await import('oidc-provider');
    op.server = createServer();
    await new Promise((resolve) => op.server.listen(0, '127.0.0.1', resolve));
    op.issuer = `http://127.0.0.1:${op.server.address().port}`;
    const provider = new Provider(op.issuer, {
      clients: [
        {
          client_id: CLIENT_ID,
          client_secret: CLIENT_SECRET,
          redirect_uris: [`${env.server.baseURL}/auth/oidc/${DEMO.org}/callback`],
          grant_types: ['authorization_code'],
          response_types: ['code'],
        },
      ],
      async findAccount(_ctx, id) {
        const account = accounts[id];
        if (!account) return undefined;
        return { accountId: id, claims: async () => ({ sub: id, ...account }) };
      },
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'given_name', 'family_name'] },
      // The claims of the requested scopes go into the ID token itself.
      conformIdTokenClaims: false,
      cookies: { keys: ['plaudit-e2e-cookie-key'] },
      ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 3600, IdToken: 600, Interaction: 600, Session: 3600 },
      features: { devInteractions: { enabled: true } },
    });
    provider.on('server_error', (_ctx, err) => process.stderr.write(`oidc-provider: ${err.stack}\n`));
    op.server.on('request', provider.callback());
  });
  after(async () => {
    op.server?.closeAllConnections?.();
    await new Promise((resolve) => (op.server ? op.server.close(resolve) : resolve()));
  });

  /** A fresh signed-out page; the provider's pages import a web font, which goes nowhere here. */
  async function open() {
    const page = await env.open();
    await page.context().route(/fonts\.googleapis\.com/, (r) => r.abort());
    return page;
  }

  /** From the sign-in page through the provider's login and consent. */
  async function throughProvider(page, login, { typeOrg = false } = {}) {
    if (typeOrg) {
      // Only the organisation typed in, then the form's SSO button.
      await page.goto('/signin');
      await page.getByLabel('Organisation').fill(DEMO.org.toUpperCase());
      await page.getByRole('button', { name: 'Use single sign-on (SSO)' }).click();
      await page.waitForURL((u) => u.searchParams.get('org') === DEMO.org);
    } else {
      await page.goto(`/signin?org=${DEMO.org}`);
    }
    await page.getByRole('link', { name: 'Sign in with SSO' }).click();
    await page.waitForURL((u) => u.origin === op.issuer);
    await page.locator('input[name="login"]').fill(login);
    await page.locator('input[name="password"]').fill('any password');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    await page.getByRole('button', { name: 'Continue' }).click();
  }

  /**
   * Goes through the provider but stops short of our callback and returns its
   * URL, unused. Playwright does not route requests that follow a redirect, so
   * the consent post is sent from here and its redirects followed by hand (with
   * the context's cookies) up to the callback's address.
   */
  async function callbackUrl(page, login) {
    let captured;
    const pattern = `${op.issuer}/interaction/**`;
    await page.route(pattern, async (route) => {
      const request = route.request();
      if (request.method() !== 'POST' || !(request.postData() ?? '').includes('prompt=consent')) {
        return route.continue();
      }
      let answer = await route.fetch({ maxRedirects: 0 });
      for (let hops = 0; hops < 5 && !captured; hops++) {
        const location = answer.headers().location;
        assert.ok(location, `the provider answered ${answer.status()} without a redirect`);
        const next = new URL(location, op.issuer);
        if (next.origin === env.server.baseURL) captured = next;
        else answer = await page.context().request.get(next.toString(), { maxRedirects: 0 });
      }
      return route.fulfill({ status: 200, contentType: 'text/html', body: '<p>Stopped before the callback.</p>' });
    });
    await throughProvider(page, login);
    await expectText(page.locator('body'), 'Stopped before the callback.');
    await page.unroute(pattern);
    assert.ok(captured?.pathname.endsWith('/callback'), `the provider sends the browser back to the callback: ${captured}`);
    return captured;
  }

  async function expectRefused(page, code, text) {
    const error = page.getByTestId('sso-error');
    await expectText(error, text);
    assert.equal(await error.getAttribute('data-code'), code);
    await expectText(page.locator('main'), 'You are not signed in.');
  }

  async function assertSignedOut(page) {
    await page.goto('/feed');
    await page.waitForURL((u) => u.pathname === '/signin');
  }

  /** The owner's SSO form: fill what is given, save, and wait for the notice. */
  async function saveSettings(admin, { jit, require } = {}) {
    await admin.goto('/admin/integrations/sso');
    await admin.getByLabel('Issuer URL').fill(op.issuer);
    await admin.getByLabel('Client id').fill(CLIENT_ID);
    await admin.getByLabel('E-mail domains that may join').fill('example.com');
    const boxes = [
      ['Offer sign-in with SSO', true],
      ['Create members at their first sign-in', Boolean(jit)],
      ['Require SSO for everyone but owners', Boolean(require)],
    ];
    for (const [label, on] of boxes) await admin.getByLabel(label).setChecked(on);
    await admin.getByRole('button', { name: 'Save SSO settings' }).click();
    await admin.waitForURL((u) => u.search.includes('saved=1'));
  }

  it('the owner sets SSO up on the admin page and the test finds the provider', async () => {
    const admin = await open();
    await signIn(admin, DEMO.admin);
    await openIntegration(admin, 'Single sign-on', '/admin/integrations/sso');
    await expectText(admin.getByTestId('sso-status'), 'Not set up');
    await expectText(admin.getByTestId('sso-redirect-uri'), `${env.server.baseURL}/auth/oidc/${DEMO.org}/callback`);

    // Bad input: the message stands beside the field and nothing is saved.
    await admin.getByLabel('Issuer URL').fill('idp.example.com');
    await admin.getByLabel('Client id').fill(CLIENT_ID);
    await admin.getByLabel('Client secret').fill(CLIENT_SECRET);
    await admin.getByRole('button', { name: 'Save SSO settings' }).click();
    await expectText(admin.locator('#issuer_url-error'), /https:\/\//);
    assert.equal(await admin.getByLabel('Issuer URL').getAttribute('aria-invalid'), 'true');
    await expectText(admin.getByTestId('sso-status'), 'Not set up');

    await admin.getByLabel('Issuer URL').fill(op.issuer);
    await admin.getByLabel('Client secret').fill(CLIENT_SECRET);
    await admin.getByRole('button', { name: 'Save SSO settings' }).click();
    await admin.waitForURL((u) => u.search.includes('saved=1'));
    await expectText(admin.getByTestId('sso-status'), 'On');
    assert.equal(await admin.getByLabel('Client secret').inputValue(), '', 'the secret is never shown back');
    assert.ok(!(await admin.content()).includes(CLIENT_SECRET));

    await admin.getByRole('button', { name: 'Test connection' }).click();
    await expectText(admin.getByTestId('sso-test-result'), 'The provider answered');
    await expectText(admin.getByTestId('sso-test-result'), op.issuer);
    assert.deepEqual(admin.problems, []);
  });

  it('a member signs in with SSO and lands on the feed as themselves', async () => {
    const page = await open();
    await throughProvider(page, 'stephane', { typeOrg: true });
    await page.waitForURL((u) => u.pathname === '/feed' && u.origin === env.server.baseURL);
    await expectText(page.getByTestId('current-member'), DEMO.memberName);
    assert.deepEqual(page.problems, []);
  });

  it('a wrong state is refused and signs nobody in', async () => {
    const page = await open();
    const url = await callbackUrl(page, 'stephane');
    url.searchParams.set('state', 'not-the-state-we-sent');
    await page.goto(url.toString());
    await expectRefused(page, 'sso_state_invalid', /not started here/);
    await assertSignedOut(page);
  });

  it('a replayed code is refused: the state is spent, and the provider refuses the code', async () => {
    const page = await open();
    const first = await callbackUrl(page, 'stephane');
    await page.goto(first.toString());
    await page.waitForURL((u) => u.pathname === '/feed');

    // The same answer again, in the same browser: its state was used.
    await page.goto(first.toString());
    await expectRefused(page, 'sso_state_invalid', /already used/);
    // …and in another browser it is not theirs to finish.
    const elsewhere = await open();
    await elsewhere.goto(first.toString());
    await expectRefused(elsewhere, 'sso_state_invalid', /another browser|already used/);
    await assertSignedOut(elsewhere);

    // The used code with a fresh, valid state of its own: the provider says no.
    const other = await open();
    const fresh = await callbackUrl(other, 'stephane');
    fresh.searchParams.set('code', first.searchParams.get('code'));
    await other.goto(fresh.toString());
    await expectRefused(other, 'sso_code_rejected', /refused the sign-in code/);
    await assertSignedOut(other);
  });

  it('with just-in-time creation on, a foreign domain is refused and an allowed one joins', async () => {
    const admin = await open();
    await signIn(admin, DEMO.admin);
    await saveSettings(admin, { jit: true });

    const foreigner = await open();
    await throughProvider(foreigner, 'foreigner');
    await expectRefused(foreigner, 'sso_domain_not_allowed', /elsewhere\.test/);
    await assertSignedOut(foreigner);

    const joiner = await open();
    await throughProvider(joiner, 'newbie');
    await joiner.waitForURL((u) => u.pathname === '/feed' && u.origin === env.server.baseURL);
    await expectText(joiner.getByTestId('current-member'), 'Nia Newbie');
    await admin.goto(`/directory?q=${encodeURIComponent('Nia Newbie')}`);
    await expectText(admin.locator('main'), 'Nia Newbie');
  });

  it('require SSO refuses a member\'s password and offers SSO; the owner keeps the password', async () => {
    const admin = await open();
    await signIn(admin, DEMO.admin);
    await saveSettings(admin, { jit: true, require: true });

    const page = await open();
    await page.goto('/signin');
    await page.getByLabel('Organisation').fill(DEMO.org);
    await page.getByLabel('E-mail').fill(DEMO.member);
    await page.getByLabel('Password').fill(DEMO.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expectText(page.getByTestId('form-error'), /signs you in with SSO/);
    assert.equal(new URL(page.url()).pathname, '/signin');
    await page.getByRole('link', { name: 'Sign in with SSO' }).click();
    await page.waitForURL((u) => u.origin === op.issuer);

    // The API says the same, with its problem code.
    const api = await fetch(`${env.server.baseURL}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ org: DEMO.org, email: DEMO.member, password: DEMO.password }),
    });
    assert.equal(api.status, 403);
    assert.equal((await api.json()).code, 'sso_required');

    const owner = await open();
    await signIn(owner, DEMO.admin);
    await expectText(owner.getByTestId('current-member'), DEMO.adminName);
  });
});
