// Webhooks in a real browser: an admin finds the page in the navigation,
// a bad URL is refused beside its field, a webhook to a local receiver is
// added (its secret shown once), "Send test" reaches the receiver with a
// signature that verifies with that secret, and the log shows it delivered.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { DEMO, expectText, openIntegration, signIn, skipReason, useBrowser } from '../helpers.mjs';

// This file's server (each test file runs in its own process) may call 127.0.0.1.
process.env.PLAUDIT_WEBHOOKS_ALLOW_PRIVATE = 'true';

const skip = skipReason() ?? false;
const it = (name, fn) => test(name, { skip }, fn);

/** Checks a Plaudit-Signature header the way docs/webhooks.md tells receivers to. */
function verifies(secret, header, raw) {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=')));
  const expected = createHmac('sha256', secret).update(`${parts.t}.`).update(raw).digest();
  const given = Buffer.from(parts.v1 ?? '', 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

describe('webhooks', () => {
  const env = useBrowser(skip);
  const open = env.open;
  const received = [];
  let receiver;
  let receiverURL;

  before(async () => {
    receiver = createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, raw: Buffer.concat(chunks) });
        res.writeHead(204).end();
      });
    });
    await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverURL = `http://127.0.0.1:${receiver.address().port}/plaudit`;
  });
  after(() => receiver?.close());

  it('an admin adds a webhook, sees its secret once, and a test delivery verifies', async () => {
    const admin = await open();
    await signIn(admin, DEMO.admin);
    await openIntegration(admin, 'Webhooks', '/admin/integrations/webhooks');

    // A URL with credentials: the message is beside the field, nothing is added.
    await admin.getByLabel('URL', { exact: true }).fill('https://user:secret@example.com/in');
    await admin.getByRole('button', { name: 'Add webhook' }).click();
    await expectText(admin.locator('#url-error'), /user name or password/);
    assert.equal(await admin.getByLabel('URL', { exact: true }).getAttribute('aria-invalid'), 'true');
    assert.equal(await admin.getByTestId('webhook').count(), 0);

    await admin.getByLabel('URL', { exact: true }).fill(receiverURL);
    await admin.getByLabel('Description').fill('Local receiver');
    await admin.getByRole('button', { name: 'Add webhook' }).click();
    const secret = (await admin.getByTestId('webhook-secret').locator('code').textContent()).trim();
    assert.match(secret, /^whsec_/);

    await admin.getByRole('button', { name: 'Send test' }).click();
    await admin.waitForURL((u) => u.search.includes('done=tested'));
    const row = admin.getByTestId('delivery').first();
    await expectText(row, /ping/);
    await expectText(row, /Delivered/);
    // The secret is not on the page any more.
    assert.ok(!(await admin.locator('main').textContent()).includes(secret));

    assert.equal(received.length, 1);
    const ping = received[0];
    assert.equal(ping.headers['plaudit-event'], 'ping');
    assert.ok(verifies(secret, ping.headers['plaudit-signature'], ping.raw), ping.headers['plaudit-signature']);
    assert.ok(!verifies('whsec_wrong', ping.headers['plaudit-signature'], ping.raw));
    assert.equal(JSON.parse(ping.raw.toString('utf8')).type, 'ping');

    // Back on the list, the webhook is there.
    await admin.getByRole('link', { name: 'All webhooks' }).click();
    await expectText(admin.getByTestId('webhook'), receiverURL);
    assert.deepEqual(admin.problems, []);
  });
});
