// The chat integrations' admin pages in a real browser: the admin finds
// them in the navigation; Slack without the app's credentials says what the
// operator must set; the Teams form shows its errors beside the fields,
// saves, and its test message reaches a local Workflows receiver as an
// Adaptive Card.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { DEMO, expectText, openIntegration, signIn, skipReason, useBrowser } from '../helpers.mjs';

// This file's server (each test file runs in its own process) may post to the local Workflows receiver.
process.env.PLAUDIT_WEBHOOKS_ALLOW_PRIVATE = 'true';

const skip = skipReason() ?? false;
const it = (name, fn) => test(name, { skip }, fn);
const TOKEN = 'vqF0En+Z0ucuRTM/01o2GuhMH3hKKk/N2bOmlM31zaA=';

describe('integrations', () => {
  const env = useBrowser(skip);
  const open = env.open;
  const received = [];
  let receiver;
  let receiverURL;

  before(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        received.push({ url: req.url, body });
        res.writeHead(202).end();
      });
    });
    await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverURL = `http://127.0.0.1:${receiver.address().port}/workflows/run?sig=abc`;
  });
  after(() => receiver?.close());

  it('an admin configures Teams with errors beside the fields, and sends a test card', async () => {
    const page = await open();
    await signIn(page, DEMO.admin);
    await openIntegration(page, 'Slack', '/admin/integrations/slack');
    await expectText(page.locator('main'), /Add to Slack/);

    // Slack is not configured on this server: the page says what to set.
    await page.getByTestId('add-to-slack').click();
    await expectText(page.locator('main'), /PLAUDIT_SLACK_CLIENT_ID/);

    await page.goto('/admin/integrations/slack');
    await page.getByRole('link', { name: 'Microsoft Teams' }).click();
    await page.waitForURL((u) => u.pathname === '/admin/integrations/teams');
    await expectText(page.getByTestId('teams-webhook-url'), /\/integrations\/teams\/demo\/webhook$/);

    // A wrong token: the message is beside the field, the URL typed is kept.
    await page.getByLabel('Security token').fill('not-a-token');
    await page.getByLabel('Workflows URL').fill(receiverURL);
    await page.getByRole('button', { name: 'Save' }).click();
    await expectText(page.locator('#security_token-error'), /security token/);
    assert.equal(await page.getByLabel('Security token').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByLabel('Workflows URL').inputValue(), receiverURL);

    await page.getByLabel('Security token').fill(TOKEN);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL((u) => u.search.includes('notice=saved'));
    await expectText(page.getByTestId('integration-status'), /Connected/);

    await page.getByRole('button', { name: 'Send test message' }).click();
    await page.waitForURL((u) => u.search.includes('notice=test_sent'));
    await expectText(page.locator('main'), /The test message was sent/);
    assert.equal(received.length, 1);
    assert.equal(received[0].url, '/workflows/run?sig=abc');
    const card = JSON.parse(received[0].body);
    assert.equal(card.attachments[0].contentType, 'application/vnd.microsoft.card.adaptive');
    assert.match(card.attachments[0].content.body[0].text, /Plaudit is connected/);
    assert.deepEqual(page.problems, []);
  });
});
