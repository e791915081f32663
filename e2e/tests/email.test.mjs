// E-mail in a real browser, with the server mailing a local SMTP sink:
// a recognition mail's unsubscribe link stops that kind only, the admin's
// e-mail page sends a test mail, and a forgotten password is reset from
// the mailed link.

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO, expectText, openIntegration, signIn, skipReason, useBrowser } from '../helpers.mjs';
import { startSmtpSink } from '../smtp-sink.mjs';

const skip = skipReason() ?? false;
const it = (name, fn) => test(name, { skip }, fn);
const sink = skip ? null : await startSmtpSink();

describe('e-mail', () => {
  const env = useBrowser(skip, {
    env: sink ? { PLAUDIT_SMTP_URL: sink.url, PLAUDIT_JOBS_INTERVAL_MS: '200' } : {},
  });
  const open = env.open;
  after(() => sink?.close());

  it('a recognition mail arrives and its unsubscribe link stops that kind only', async () => {
    const giver = await open();
    await signIn(giver, DEMO.member);
    const csrf = await giver.locator('meta[name="csrf-token"]').getAttribute('content');
    const message = `Thanks for the <b>demo</b> ${Date.now()}`;
    const resp = await giver.request.post('/api/v1/recognitions', {
      headers: { 'x-csrf-token': csrf },
      data: { recipients: [DEMO.admin], points: 1, message },
    });
    assert.equal(resp.status(), 201, await resp.text());
    // The demo's first weekly digests and reminders are queued at start-up: allow for them.
    const mail = await sink.waitFor(DEMO.admin, new RegExp(message.replace(/[<>]/g, '.')), 90_000);
    if (process.env.PLAUDIT_E2E_MAIL_SUMMARY) {
      const subjects = {};
      for (const m of sink.messages) {
        const s = (/^Subject: (.*)$/m.exec(m.data)?.[1] ?? '').replace(/\d+/g, 'N');
        subjects[s] = (subjects[s] ?? 0) + 1;
      }
      process.stderr.write(`${JSON.stringify(subjects, null, 1)}\n`);
    }
    assert.match(mail.text, new RegExp(`${DEMO.memberName} recognised you`));
    assert.match(mail.data, /List-Unsubscribe-Post: List-Unsubscribe=One-Click/);
    const link = /Unsubscribe from these mails: (\S+)/.exec(mail.text)[1];

    const page = await open();
    await page.goto(link);
    await expectText(page.locator('h1'), 'Unsubscribe');
    await expectText(page.locator('main'), DEMO.admin);
    await page.getByRole('button', { name: 'Unsubscribe' }).click();
    await expectText(page.getByTestId('unsubscribed'), 'no longer get mails when you are recognised');

    await signIn(page, DEMO.admin);
    await page.getByRole('link', { name: 'Notifications' }).click();
    await page.waitForURL((u) => u.pathname === '/settings/notifications');
    assert.equal(await page.getByLabel('When I am recognised').isChecked(), false);
    assert.equal(await page.getByLabel(/redemption of mine/).isChecked(), true);
    assert.equal(await page.getByLabel(/Weekly digest/).isChecked(), true);
    // Turn it back on with the form.
    await page.getByLabel('When I am recognised').check();
    await page.getByRole('button', { name: 'Save' }).click();
    await expectText(page.locator('main'), 'Your choices are saved.');
    assert.equal(await page.getByLabel('When I am recognised').isChecked(), true);
    assert.deepEqual(page.problems, []);
  });

  it('the admin page shows the server and sends a test mail', async () => {
    const page = await open();
    await signIn(page, DEMO.admin);
    await openIntegration(page, 'E-mail', '/admin/integrations/email');
    await expectText(page.getByTestId('smtp-settings'), 'none (plain SMTP)');
    await page.getByRole('button', { name: /Send test e-mail/ }).click();
    await expectText(page.getByTestId('test-result'), `A test mail was sent to ${DEMO.admin}`);
    await sink.waitFor(DEMO.admin, /This is a test mail from Plaudit/);
    assert.deepEqual(page.problems, []);
  });

  it('a forgotten password is reset from the mailed link', async () => {
    const page = await open();
    await page.goto('/signin');
    await page.getByRole('link', { name: 'Forgot password?' }).click();
    await page.waitForURL((u) => u.pathname === '/forgot-password');
    await page.getByLabel('Organisation').fill(DEMO.org);
    await page.getByLabel('E-mail').fill(DEMO.member);
    await page.getByRole('button', { name: 'Send the link' }).click();
    await expectText(page.getByTestId('reset-sent'), 'a link to set a new password is on its way');
    const mail = await sink.waitFor(DEMO.member, /reset-password\?token=/, 90_000);
    const link = /(http\S+\/reset-password\?token=\S+)/.exec(mail.text)[1];

    await page.goto(link);
    await expectText(page.locator('h1'), 'Choose a new password');
    await page.getByLabel('New password', { exact: true }).fill('a brand new passphrase');
    await page.getByLabel('New password again').fill('not the same one');
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await expectText(page.locator('.error-summary'), 'The two passwords differ');
    await page.getByLabel('New password', { exact: true }).fill('a brand new passphrase');
    await page.getByLabel('New password again').fill('a brand new passphrase');
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await page.waitForURL((u) => u.pathname === '/signin');
    await expectText(page.locator('main'), 'Your new password is set');
    await signIn(page, DEMO.member, { password: 'a brand new passphrase' });

    // The link worked once.
    await page.goto(link);
    await expectText(page.getByTestId('reset-invalid'), 'expired or was used already');
    assert.deepEqual(page.problems, []);
  });
});
