// The web app in a real browser: sign-up, sign-in/out, the directory with
// names in any script, the admin's member editor, form errors beside their
// field, and what a plain member may not see.

import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DEMO, expectText, signIn, skipReason, unique, useBrowser } from '../helpers.mjs';

const skip = skipReason() ?? false;
const screenshots = process.env.PLAUDIT_E2E_SCREENSHOTS;

// Skipped one by one (not the suite), so the summary counts them as skipped.
const it = (name, fn) => test(name, { skip }, fn);

describe('web app', () => {
  const env = useBrowser(skip);
  const open = env.open;

  it('sign up a new organisation through the form and land on the directory signed in', async () => {
    const page = await open();
    const slug = unique('e2e-');
    await page.goto('/signup');
    await page.getByLabel('Organisation name').fill('Øresund Bakery 面包');
    await page.getByLabel('Short name').fill(slug);
    await page.getByLabel('Time zone').fill('Europe/Copenhagen');
    await page.getByLabel('Your name', { exact: true }).fill('山田 花子');
    await page.getByLabel('E-mail').fill(`hanako@${slug}.example`);
    await page.getByLabel('Password').fill('a long enough password');
    await page.getByRole('button', { name: 'Create organisation' }).click();

    await page.waitForURL((u) => u.pathname === '/directory');
    await expectText(page.locator('h1'), 'Directory');
    await expectText(page.locator('header .brand'), 'Øresund Bakery 面包');
    await expectText(page.getByTestId('current-member'), '山田 花子');
    // The owner is the organisation's only member, and an admin.
    await expectText(page.locator('table.directory tbody'), '山田 花子');
    assert.equal(await page.locator('table.directory tbody tr').count(), 1);
    assert.equal(await page.getByRole('link', { name: 'Settings' }).count(), 1);
    const cookies = await page.context().cookies();
    assert.ok(cookies.some((c) => c.name === 'plaudit_session' && c.httpOnly), 'an HttpOnly session cookie is set');
    assert.deepEqual(page.problems, []);
  });

  it('sign in as the demo admin and sign out', async () => {
    const page = await open();
    // Going to a page without a session leads to the sign-in form.
    await page.goto('/directory');
    await page.waitForURL((u) => u.pathname === '/signin');

    // A wrong password is shown on the form.
    await page.getByLabel('Organisation').fill(DEMO.org);
    await page.getByLabel('E-mail').fill(DEMO.admin);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expectText(page.locator('.error-summary'), /organisation, e-mail or password is wrong/);
    assert.equal(new URL(page.url()).pathname, '/signin');

    await page.getByLabel('Password').fill(DEMO.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // Signing in goes back to the page asked for.
    await page.waitForURL((u) => u.pathname === '/directory');
    await expectText(page.getByTestId('current-member'), DEMO.adminName);
    await expectText(page.locator('header .brand'), 'Plaudit Demo Company');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((u) => u.pathname === '/signin');
    await expectText(page.locator('main'), 'You are signed out.');
    assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 0);

    // The session is gone: the directory sends us back to sign in.
    await page.goto('/directory');
    await page.waitForURL((u) => u.pathname === '/signin');
    assert.deepEqual(page.problems, []);
  });

  it('find members by a non-Latin name with the keyboard and open the profile', async () => {
    const page = await open();
    await signIn(page, DEMO.admin);
    await page.getByRole('link', { name: 'Directory' }).click();
    await page.waitForURL((u) => u.pathname === '/directory');

    // The first Tab reaches the skip link.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to main content');

    if (screenshots) {
      mkdirSync(screenshots, { recursive: true });
      await page.screenshot({ path: path.join(screenshots, 'directory.png'), fullPage: false });
    }

    // Devanagari, among active members (the default filter).
    const search = page.getByLabel('Search by name or e-mail');
    await search.fill('लाल सक्सेना');
    await search.press('Enter');
    await page.waitForURL((u) => u.searchParams.get('q') === 'लाल सक्सेना');
    const rows = page.locator('table.directory tbody tr');
    assert.equal(await rows.count(), 1);
    await expectText(rows, 'लाल सक्सेना');

    // Chinese: 徐东 is deactivated, so only the "All" status finds him.
    await page.getByLabel('Search by name or e-mail').fill('徐东');
    await page.getByLabel('Status').selectOption('active');
    await page.getByLabel('Search by name or e-mail').press('Enter');
    await page.waitForURL((u) => u.searchParams.get('q') === '徐东');
    await expectText(page.locator('main'), 'No members match.');

    await page.getByLabel('Status').selectOption('all');
    await page.getByLabel('Search by name or e-mail').press('Enter');
    await page.waitForURL((u) => u.searchParams.get('status') === 'all');
    const link = page.getByRole('link', { name: '徐东', exact: true });
    await link.focus();
    await page.keyboard.press('Enter');
    await page.waitForURL((u) => u.pathname.startsWith('/members/'));
    await expectText(page.locator('h1'), '徐东');
    await expectText(page.locator('main'), 'Chief Executive Officer');
    await expectText(page.getByTestId('member-status'), 'Deactivated');
    // His report 何红梅 is listed and leads to her profile, whose manager chain starts with him.
    await page.getByRole('link', { name: '何红梅' }).click();
    await page.waitForURL((u) => u.pathname.startsWith('/members/'));
    await expectText(page.locator('h1'), '何红梅');
    await expectText(page.locator('section[aria-labelledby="chain-title"] li'), '徐东');
    assert.deepEqual(page.problems, []);
  });

  it('an admin edits a member and sees the change on the profile', async () => {
    const page = await open();
    await signIn(page, DEMO.admin);
    await page.goto('/directory');
    await page.getByLabel('Search by name or e-mail').fill('pierce.monk@example.com');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'Pierce Monk', exact: true }).click();
    await page.waitForURL((u) => u.pathname.startsWith('/members/'));
    const profileUrl = new URL(page.url()).pathname;

    await page.getByRole('link', { name: /^Edit/ }).click();
    await page.waitForURL((u) => u.pathname.endsWith('/edit'));
    const title = unique('Principal Scientist ');
    await page.getByLabel('Title').fill(title);
    await page.getByLabel('Status').selectOption('inactive');
    await page.getByRole('button', { name: 'Save changes' }).click();

    await page.waitForURL((u) => u.pathname === profileUrl && u.searchParams.get('saved') === '1');
    await expectText(page.locator('.notice'), 'Changes saved.');
    await expectText(page.locator('.lead'), title);
    await expectText(page.getByTestId('member-status'), 'Deactivated');

    // Reactivate, so the demo directory stays as it was.
    await page.getByRole('link', { name: /^Edit/ }).click();
    await page.getByLabel('Status').selectOption('active');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.waitForURL((u) => u.pathname === profileUrl);
    await expectText(page.getByTestId('member-status'), 'Active');
    await expectText(page.locator('.lead'), title);
    assert.deepEqual(page.problems, []);
  });

  it('a bad value is shown next to its field and nothing changes', async () => {
    const page = await open();
    await signIn(page, DEMO.admin);
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.waitForURL((u) => u.pathname === '/settings');
    const tz = page.getByLabel('Time zone');
    const before = await tz.inputValue();
    const nameBefore = await page.getByLabel('Organisation name').inputValue();
    assert.notEqual(before, '');

    await page.getByLabel('Organisation name').fill('Renamed By A Failed Save');
    await tz.fill('Mars/Olympus');
    await page.getByRole('button', { name: 'Save settings' }).click();

    const error = page.locator('#timezone-error');
    await expectText(error, /'Mars\/Olympus' is not an IANA time zone/);
    const describedBy = (await page.locator('#timezone').getAttribute('aria-describedby')) ?? '';
    assert.ok(describedBy.split(' ').includes('timezone-error'), `aria-describedby="${describedBy}"`);
    assert.equal(await page.locator('#timezone').getAttribute('aria-invalid'), 'true');
    // The error sits inside the time zone field, not elsewhere.
    assert.equal(await page.locator('.field:has(#timezone) #timezone-error').count(), 1);
    assert.equal(await page.locator('#name-error').count(), 0);
    // What was typed is kept for correcting it…
    assert.equal(await page.locator('#timezone').inputValue(), 'Mars/Olympus');

    // …but nothing was saved, not even the valid name.
    await page.goto('/settings');
    assert.equal(await page.getByLabel('Time zone').inputValue(), before);
    assert.equal(await page.getByLabel('Organisation name').inputValue(), nameBefore);
    await expectText(page.locator('header .brand'), nameBefore);

    // Sign-up with a too-short password: the error is beside the password, and no organisation is made.
    const other = await open();
    const slug = unique('short-');
    await other.goto('/signup');
    await other.getByLabel('Organisation name').fill('Short Password Ltd');
    await other.getByLabel('Short name').fill(slug);
    await other.getByLabel('Your name', { exact: true }).fill('Ana');
    await other.getByLabel('E-mail').fill(`ana@${slug}.example`);
    await other.getByLabel('Password').fill('short');
    await other.getByRole('button', { name: 'Create organisation' }).click();
    await expectText(other.locator('#password-error'), /at least 10 characters/);
    assert.equal(new URL(other.url()).pathname, '/signup');
    assert.equal(await other.getByLabel('Short name').inputValue(), slug);
    // The slug is still free: a second try with a good password succeeds.
    await other.getByLabel('Password').fill('a much better password');
    await other.getByRole('button', { name: 'Create organisation' }).click();
    await other.waitForURL((u) => u.pathname === '/directory');
    assert.deepEqual(page.problems, []);
  });

  it('a plain member gets 403 on settings and on the member editor', async () => {
    const page = await open();
    await signIn(page, DEMO.member);
    await expectText(page.getByTestId('current-member'), DEMO.memberName);
    assert.equal(await page.getByRole('link', { name: 'Settings' }).count(), 0, 'no Settings link for members');

    const resp = await page.goto('/settings');
    assert.equal(resp.status(), 403);
    await expectText(page.locator('h1'), 'Not allowed');

    await page.goto('/directory');
    await page.getByLabel('Search by name or e-mail').fill('Valérie Alexandre');
    await page.getByLabel('Search by name or e-mail').press('Enter');
    await page.getByRole('link', { name: 'Valérie Alexandre', exact: true }).click();
    await page.waitForURL((u) => u.pathname.startsWith('/members/'));
    assert.equal(await page.getByRole('link', { name: /^Edit/ }).count(), 0, 'no Edit link for members');
    const edit = await page.goto(`${new URL(page.url()).pathname}/edit`);
    assert.equal(edit.status(), 403);
    assert.deepEqual(page.problems, []);
  });

  it('a form post without the CSRF token is refused', async () => {
    const page = await open();
    await signIn(page, DEMO.admin);
    const resp = await page.request.post('/settings', {
      form: { name: 'Forged Name', timezone: 'UTC' },
      maxRedirects: 0,
    });
    assert.equal(resp.status(), 403);
    await page.goto('/settings');
    assert.notEqual(await page.getByLabel('Organisation name').inputValue(), 'Forged Name');

    // Sign-in needs the double-submit token too.
    const fresh = await open();
    const signin = await fresh.request.post('/signin', {
      form: { org: DEMO.org, email: DEMO.admin, password: DEMO.password },
      maxRedirects: 0,
    });
    assert.equal(signin.status(), 403);
    assert.ok(!(await fresh.context().cookies()).some((c) => c.name === 'plaudit_session'));
  });
});
