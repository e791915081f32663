// Recognition in a real browser: the admin's values and allowances, giving
// recognition to two people picked with the search picker (keyboard only),
// the feed with the org's currency, reactions without a reload, the
// recipient's earned balance, escaping of whatever people write, errors
// beside their field (live with JavaScript and server-rendered without),
// and the same actions as plain form posts.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DEMO, expectText, newPage, signIn, skipReason, unique, useBrowser } from '../helpers.mjs';

const skip = skipReason() ?? false;
const screenshots = process.env.PLAUDIT_E2E_SCREENSHOTS;

const it = (name, fn) => test(name, { skip }, fn);

/** The second recipient: a Devanagari name, so names in any script go through the picker. */
const OTHER = { name: 'लाल सक्सेना', email: 'user.11@example.com' };
const THIRD = { name: 'Valérie Alexandre', email: 'valerie.alexandre@example.com' };

describe('recognition', () => {
  const env = useBrowser(skip);
  const open = env.open;

  /** A browser context with JavaScript turned off: every page must still work. */
  async function openWithoutJs() {
    const context = await env.browser.newContext({
      baseURL: env.server.baseURL,
      javaScriptEnabled: false,
      locale: 'en-GB',
      viewport: { width: 1280, height: 900 },
    });
    context.setDefaultTimeout(10_000);
    env.contexts.push(context);
    return context.newPage();
  }

  async function currencyEmoji(page) {
    return page.locator('meta[name="plaudit-currency"]').getAttribute('content');
  }

  async function remaining(page) {
    const text = await page.getByTestId('allowance-remaining').first().textContent();
    const n = Number(text.trim());
    assert.ok(Number.isInteger(n), `the allowance shown is a number, saw ${JSON.stringify(text)}`);
    return n;
  }

  /** Sets one member's monthly allowance through the admin page. */
  async function setAllowance(page, email, amount) {
    await page.goto('/admin/recognition');
    await page.getByRole('radio', { name: 'One member' }).check();
    await page.getByLabel("Member's e-mail").fill(email);
    await page.getByLabel('Allowance', { exact: true }).fill(String(amount));
    await page.getByRole('button', { name: 'Set allowance' }).click();
    await expectText(page.locator('.notice'), 'The allowance is set.');
  }

  /** Picks a person with the recipient picker, by keyboard only. */
  async function pick(page, query, name) {
    const search = page.getByRole('combobox', { name: 'Recipients' });
    await search.focus();
    await page.keyboard.type(query);
    const option = page.getByRole('option', { name: new RegExp(name) });
    await option.first().waitFor();
    await page.keyboard.press('ArrowDown');
    // The highlighted option is the one the combobox points at.
    const active = await search.getAttribute('aria-activedescendant');
    assert.ok(active, 'ArrowDown highlights an option');
    await expectText(page.locator(`#${active}`), name);
    await page.keyboard.press('Enter');
    await expectText(page.locator('.picker-chips'), name);
    assert.equal(await search.inputValue(), '', 'the search box is emptied after choosing');
  }

  /** The newest post of the feed. */
  function top(page) {
    return page.locator('ol.posts > li').first().locator('article.post');
  }

  it('give two people recognition with the picker, see it on top, react without a reload, and the recipient sees their balance', async () => {
    const page = await open();
    await signIn(page, DEMO.admin);
    assert.equal(new URL(page.url()).pathname, '/feed', 'signing in lands on the feed');
    const emoji = await currencyEmoji(page);
    assert.equal(emoji, '🏆', 'the default currency');

    // Enough allowance for the test, whatever the demo history spent.
    await setAllowance(page, DEMO.admin, 500);

    // A value to give the recognition for: the first active one, or a new one.
    const activeValues = page.locator('.value-row:not(.archived) .value-head .chip');
    let valueName = (await activeValues.count()) > 0 ? (await activeValues.first().textContent()).trim() : null;
    if (!valueName) {
      const name = unique('Craft ');
      await page.locator('#new_value_emoji').fill('🧭');
      await page.locator('#new_value_name').fill(name);
      await page.getByRole('button', { name: 'Add value' }).click();
      await expectText(page.locator('.notice'), 'The value is saved.');
      valueName = `🧭 ${name}`;
    }
    const valueLabel = valueName.replace(/^\S+\s+/, '');

    // What the recipient had earned before (admins see everyone's balances).
    await page.goto(`/directory?q=${encodeURIComponent(DEMO.member)}`);
    await page.getByRole('link', { name: DEMO.memberName, exact: true }).click();
    await page.waitForURL((u) => u.pathname.startsWith('/members/'));
    const earnedBefore = Number((await page.getByTestId('earned-balance').textContent()).match(/-?\d+/)[0]);

    await page.getByRole('link', { name: 'Feed' }).click();
    await page.waitForURL((u) => u.pathname === '/feed');
    const before = await remaining(page);
    assert.ok(before >= 14, `enough allowance left (${before})`);

    // Recipients from the search picker, the keyboard only.
    await pick(page, 'Stéphane Bert', DEMO.memberName);
    await pick(page, OTHER.name, OTHER.name);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'points', 'Tab goes from the picker to the points');
    await page.keyboard.type('7');
    await expectText(page.locator('#points-total'), `2 × 7 = ${emoji} 14 points`);

    const value = page.getByRole('checkbox', { name: valueLabel });
    await value.focus();
    await page.keyboard.press('Space');
    assert.ok(await value.isChecked(), 'the value chip is a checkbox that Space ticks');

    const message = page.locator('#message');
    await message.focus();
    await page.keyboard.type('Thank you both for the launch!\nIt went perfectly.');
    await expectText(page.locator('#message-count'), '49 / 2000 characters');

    await page.getByRole('button', { name: 'Send recognition' }).focus();
    await page.keyboard.press('Enter');
    await page.waitForURL((u) => u.pathname === '/feed' && u.searchParams.has('given'));
    await expectText(page.locator('.notice'), 'Recognition sent.');

    // On top of the feed: the giver, both names, the points in the org's currency, the value.
    const post = top(page);
    await expectText(post.locator('.post-title'), DEMO.adminName);
    await expectText(post.locator('.post-title'), DEMO.memberName);
    await expectText(post.locator('.post-title'), OTHER.name);
    await expectText(post.getByTestId('post-points'), `${emoji} 7 points each`);
    await expectText(post.locator('.post-values'), valueLabel);
    assert.equal(await post.locator('.post-message').textContent(), 'Thank you both for the launch!\nIt went perfectly.');
    assert.equal(await post.locator('.post-message').evaluate((e) => getComputedStyle(e).whiteSpace), 'pre-wrap', 'line breaks show');
    assert.equal(await post.getByRole('link', { name: DEMO.memberName }).count(), 1, 'names link to profiles');
    assert.equal(await post.getByRole('button', { name: 'Undo' }).count(), 1, 'the giver may undo at first');
    assert.equal(await post.getByRole('button', { name: 'Hide' }).count(), 1, 'admins may hide');
    assert.equal(await post.locator('form.addon').count(), 0, 'no add-on on your own post');

    // The allowance shown in the form dropped by 7 × 2.
    assert.equal(await remaining(page), before - 14);

    if (screenshots) {
      mkdirSync(screenshots, { recursive: true });
      await page.screenshot({ path: path.join(screenshots, 'feed.png'), fullPage: false });
    }

    // React: the count becomes 1 in place, without loading the page again.
    await page.evaluate(() => {
      window.__samePage = true;
    });
    const clap = post.locator('button[data-emoji="👏"]');
    assert.equal((await clap.locator('.reaction-count').textContent()).trim(), '');
    await clap.focus();
    await page.keyboard.press('Enter');
    await expectText(clap.locator('.reaction-count'), '1');
    assert.equal(await clap.getAttribute('aria-pressed'), 'true');
    assert.equal(await page.evaluate(() => window.__samePage), true, 'no reload');
    // The server kept it.
    await page.reload();
    await expectText(top(page).locator('button[data-emoji="👏"] .reaction-count'), '1');

    // Filters: by value, department and member, the post stays on top; each
    // post shown is one the member gave or received.
    await page.goto('/feed');
    await page.getByLabel('Value', { exact: true }).selectOption({ label: valueName });
    await page.getByLabel('Department', { exact: true }).selectOption('Human Resources');
    await page.getByLabel("Member's e-mail").fill(OTHER.email);
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL((u) => u.searchParams.get('member') === OTHER.email && u.searchParams.has('value'));
    await expectText(top(page).locator('.post-message'), 'Thank you both for the launch!');
    for (const title of await page.locator('.post-title').allTextContents()) {
      assert.ok(title.includes(OTHER.name), `a post of ${OTHER.name}: ${title}`);
    }
    await page.getByLabel("Member's e-mail").fill('nobody@example.com');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expectText(page.locator('#member-error'), 'No member has that e-mail');
    assert.equal(await page.locator('ol.posts').count(), 0);
    // Older posts are a page away.
    await page.goto('/feed');
    if ((await page.getByRole('link', { name: 'Older posts' }).count()) > 0) {
      const first = await top(page).getAttribute('data-post');
      await page.getByRole('link', { name: 'Older posts' }).click();
      await page.waitForURL((u) => u.searchParams.has('cursor'));
      assert.notEqual(await top(page).getAttribute('data-post'), first);
      assert.equal(await page.locator(`#post-${first}`).count(), 0);
    }
    assert.deepEqual(page.problems, []);

    // The recipient signs in elsewhere and sees what they earned on their profile.
    const other = await open();
    await signIn(other, DEMO.member);
    await expectText(top(other).locator('.post-title'), DEMO.adminName);
    await other.getByTestId('current-member').click();
    await other.waitForURL((u) => u.pathname.startsWith('/members/'));
    await expectText(other.getByTestId('earned-balance'), `${emoji} ${earnedBefore + 7} points`);
    await expectText(other.getByTestId('allowance-balance'), emoji);
    // Their Received tab starts with this post.
    await expectText(other.locator('#recognition ol.posts > li').first().locator('.post-message'), 'Thank you both for the launch!');
    await other.getByRole('link', { name: 'Given', exact: true }).click();
    await other.waitForURL((u) => u.searchParams.get('tab') === 'given');
    assert.equal(await other.locator('#recognition .post-message', { hasText: 'Thank you both for the launch!' }).count(), 0);
    assert.deepEqual(other.problems, []);
  });

  it('a message or comment with markup is shown as text, never run', async () => {
    const page = await open();
    const dialogs = [];
    page.on('dialog', async (d) => {
      dialogs.push(d.message());
      await d.dismiss();
    });
    await signIn(page, DEMO.admin);
    const evil = '<script>alert(1)</script> & <b>bold</b> <img src=x onerror="alert(2)">';
    await pick(page, THIRD.email, THIRD.name);
    await page.locator('#points').fill('1');
    await page.locator('#message').fill(evil);
    await page.getByRole('button', { name: 'Send recognition' }).click();
    await page.waitForURL((u) => u.searchParams.has('given'));

    const message = top(page).locator('.post-message');
    assert.equal(await message.textContent(), evil);
    assert.equal(await message.locator('script, b, img').count(), 0, 'no element came from the message');

    // A comment through the API, shown at once and after a reload, as text.
    const comment = '<img src=y onerror="alert(3)"> nice';
    await top(page).locator('summary').click();
    await top(page).getByLabel('Add a comment').fill(comment);
    await top(page).getByRole('button', { name: 'Comment' }).click();
    await expectText(top(page).locator('.comment-body').last(), comment);
    await expectText(top(page).locator('.comment-count'), '1');
    await page.reload();
    assert.equal(await top(page).locator('.comment-body').last().textContent(), comment);
    assert.equal(await top(page).locator('.comments img').count(), 0);
    assert.deepEqual(dialogs, [], 'no script ran');
    assert.deepEqual(page.problems, []);
  });

  it('giving more than the allowance shows insufficient_allowance beside the points, with and without JavaScript', async () => {
    const admin = await open();
    await signIn(admin, DEMO.admin);
    await setAllowance(admin, DEMO.member, 5);

    // With JavaScript: the API's answer is shown beside the field, no page load.
    const page = await open();
    await signIn(page, DEMO.member);
    const left = await remaining(page);
    assert.ok(left <= 5, `at most 5 left (${left})`);
    await pick(page, DEMO.admin, DEMO.adminName);
    await page.locator('#points').fill('10');
    await page.locator('#message').fill('Thanks for everything!');
    await page.evaluate(() => {
      window.__samePage = true;
    });
    await page.getByRole('button', { name: 'Send recognition' }).click();
    await expectText(page.locator('#points-error'), /left to give this month/);
    assert.equal(await page.locator('#points-field #points-error').count(), 1, 'the error sits in the points field');
    assert.equal(await page.locator('#points').getAttribute('aria-invalid'), 'true');
    assert.ok((await page.locator('#points').getAttribute('aria-describedby')).split(' ').includes('points-error'));
    assert.equal(await page.locator('#recipients-error, #message-error').count(), 0);
    await expectText(page.locator('.error-summary'), /Points: That needs 10/);
    assert.equal(await page.evaluate(() => window.__samePage), true, 'no reload');
    assert.equal(new URL(page.url()).pathname, '/feed');
    // The 422 is the only failed request.
    assert.deepEqual(page.problems.filter((p) => !/^422 for .*\/api\/v1\/recognitions$/.test(p)), []);
    // Nothing was posted: the recipient and points are still there to correct.
    assert.equal(await remaining(page), left);
    await expectText(page.locator('.picker-chips'), DEMO.adminName);

    // Without JavaScript: the server renders the same error beside the field.
    const plain = await openWithoutJs();
    await signIn(plain, DEMO.member);
    await plain.goto('/give');
    await plain.getByLabel('Recipients').fill(DEMO.admin);
    await plain.locator('#points').fill('10');
    await plain.getByLabel('Message').fill('Thanks for everything!');
    const [resp] = await Promise.all([
      plain.waitForResponse((r) => r.url().endsWith('/give') && r.request().method() === 'POST'),
      plain.getByRole('button', { name: 'Send recognition' }).click(),
    ]);
    assert.equal(resp.status(), 422);
    await expectText(plain.locator('#points-field #points-error'), /left to give this month/);
    assert.equal(await plain.locator('#points').inputValue(), '10', 'what was typed is kept');
    assert.equal(await plain.getByLabel('Recipients').inputValue(), DEMO.admin);
  });

  it('without JavaScript, giving, reacting, commenting, adding on and undoing are plain form posts', async () => {
    const page = await openWithoutJs();
    await signIn(page, DEMO.admin);
    const emoji = await currencyEmoji(page);
    // Enough allowance on both sides, whatever the tests before spent.
    await setAllowance(page, DEMO.admin, 500);
    await setAllowance(page, DEMO.member, 100);
    await page.goto('/feed');
    // Give: e-mails separated by commas, and a pot of 9 split between two.
    await page.getByLabel('Recipients').fill(`${THIRD.email}, ${OTHER.email}`);
    await page.locator('#points').fill('9');
    await page.getByLabel('Split a pot').check();
    await page.getByLabel('Message').fill('Split between you two — thanks!');
    await page.getByRole('button', { name: 'Send recognition' }).click();
    await page.waitForURL((u) => u.pathname === '/feed' && u.searchParams.has('given'));
    let post = top(page);
    await expectText(post.locator('.post-title'), `${THIRD.name} (${emoji} 5 points)`);
    await expectText(post.locator('.post-title'), `${OTHER.name} (${emoji} 4 points)`);
    const id = await post.getAttribute('data-post');

    // React and comment: back on the feed at the post.
    await post.locator('button[data-emoji="🎉"]').click();
    await page.waitForURL((u) => u.hash === `#post-${id}`);
    await expectText(page.locator(`#post-${id} button[data-emoji="🎉"] .reaction-count`), '1');
    await page.locator(`#post-${id} summary`).click();
    await page.locator(`#post-${id}`).getByLabel('Add a comment').fill('Well deserved');
    await page.locator(`#post-${id}`).getByRole('button', { name: 'Comment' }).click();
    await page.waitForURL((u) => u.hash === `#post-${id}`);
    await expectText(page.locator(`#post-${id} .comment-body`), 'Well deserved');

    // Someone else adds points: "+3 from me too".
    const member = await openWithoutJs();
    await signIn(member, DEMO.member);
    await member.goto(`/feed#post-${id}`);
    const theirs = member.locator(`#post-${id}`);
    assert.equal(await theirs.getByRole('button', { name: 'Undo' }).count(), 0, 'only the giver may undo');
    assert.equal(await theirs.getByRole('button', { name: 'Hide' }).count(), 0, 'only admins may hide');
    const memberBefore = await remaining(member);
    await theirs.getByLabel('Points from you to each recipient').fill('1');
    await theirs.getByRole('button', { name: /from me too/ }).click();
    await member.waitForURL((u) => u.hash === `#post-${id}`);
    await expectText(member.locator(`#post-${id} .post-points`), `+ ${emoji} 1 point each from others`);
    assert.equal(await remaining(member), memberBefore - 2, 'one point to each of two recipients');

    // The giver undoes it within five minutes: the post is gone and the points are back.
    await page.goto('/feed');
    const before = await remaining(page);
    await page.locator(`#post-${id}`).getByRole('button', { name: 'Undo' }).click();
    await page.waitForURL((u) => u.searchParams.get('done') === 'undone');
    await expectText(page.locator('.notice'), 'undone');
    assert.equal(await page.locator(`#post-${id}`).count(), 0);
    assert.equal(await remaining(page), before + 9, "the giver's 9 points are back");
    // The add-on's points went back to its giver too.
    await member.goto('/feed');
    assert.equal(await remaining(member), memberBefore);
  });

  it('an admin manages values, currency and rules, with errors beside their field', async () => {
    const page = await open();
    await signIn(page, DEMO.admin);
    await page.getByRole('link', { name: 'Values & rules' }).click();
    await page.waitForURL((u) => u.pathname === '/admin/recognition');

    // A bad emoji is refused beside the emoji field, and what was typed stays.
    const name = unique('Focus ');
    await page.locator('#new_value_emoji').fill('abc');
    await page.locator('#new_value_name').fill(name);
    await page.getByRole('button', { name: 'Add value' }).click();
    await expectText(page.locator('#new_value_emoji-error'), /one emoji/);
    assert.equal(await page.locator('#new_value_name').inputValue(), name);
    assert.equal(await page.locator('#new_value_name-error').count(), 0);

    await page.locator('#new_value_emoji').fill('🎯');
    await page.getByRole('button', { name: 'Add value' }).click();
    await expectText(page.locator('.notice'), 'The value is saved.');
    const row = page.locator('.value-row', { hasText: name });
    await expectText(row, '🎯');

    // Move it up one place (it was added last among the active values).
    const order = async () => (await page.locator('.value-row:not(.archived) .value-head .chip').allTextContents()).map((t) => t.trim());
    const was = await order();
    const at = was.findIndex((t) => t.includes(name));
    if (at > 0) {
      await row.getByRole('button', { name: `Move ${name} up` }).click();
      await expectText(page.locator('.notice'), 'order');
      const now = await order();
      assert.ok(now[at - 1].includes(name), `moved up: ${JSON.stringify(now)}`);
    }

    // Rename and re-emoji it.
    const renamed = `${name} ✓`;
    await row.locator('summary').click();
    await row.getByLabel('Name').fill(renamed);
    await row.getByLabel('Emoji').fill('🏹');
    await row.getByRole('button', { name: /Save value/ }).click();
    await expectText(page.locator('.notice'), 'The value is saved.');
    const renamedRow = page.locator('.value-row', { hasText: renamed });
    await expectText(renamedRow.locator('.value-head'), '🏹');

    // Archived values cannot be chosen any more; unarchived they can.
    await renamedRow.getByRole('button', { name: `Archive ${renamed}` }).click();
    await expectText(page.locator('.notice'), 'archived');
    await page.goto('/give');
    assert.equal(await page.getByRole('checkbox', { name: renamed }).count(), 0);
    await page.goto('/admin/recognition');
    await page.locator('.value-row', { hasText: renamed }).getByRole('button', { name: `Unarchive ${renamed}` }).click();
    await page.goto('/give');
    assert.equal(await page.getByRole('checkbox', { name: renamed }).count(), 1);

    // A bad rule is shown beside its field and nothing is saved.
    await page.goto('/admin/recognition');
    await page.getByLabel('Most points per recipient in one recognition').fill('0');
    await page.getByRole('button', { name: 'Save rules' }).click();
    await expectText(page.locator('#max_points_per_recognition-error'), /1–1,000,000/);
    assert.equal(await page.locator('#max_points_per_recognition').getAttribute('aria-invalid'), 'true');
    await page.goto('/admin/recognition');
    assert.notEqual(await page.getByLabel('Most points per recipient in one recognition').inputValue(), '0');

    // Rules that save: a cap of 40 shows on the give form.
    await page.getByLabel('Most points per recipient in one recognition').fill('40');
    await page.getByRole('button', { name: 'Save rules' }).click();
    await expectText(page.locator('.notice'), 'rules are saved');
    await page.goto('/give');
    await expectText(page.locator('#points-hint'), 'At most 40 per recipient.');

    // A new currency is used everywhere points are shown.
    await page.goto('/admin/recognition');
    await page.getByLabel('Currency emoji').fill('⭐');
    await page.getByLabel('Currency name, one').fill('star');
    await page.getByLabel('Currency name, many').fill('stars');
    await page.getByRole('button', { name: 'Save currency' }).click();
    await expectText(page.locator('.notice'), 'The currency is now ⭐ 2 stars.');
    await page.goto('/feed');
    assert.equal(await currencyEmoji(page), '⭐');
    await expectText(page.locator('#points-hint'), '⭐');
    const points = page.locator('[data-testid="post-points"]').first();
    if ((await points.count()) > 0) await expectText(points, /⭐ \d+ stars?/);

    // A plain member may not see this page.
    const member = await open();
    await signIn(member, DEMO.member);
    assert.equal(await member.getByRole('link', { name: 'Values & rules' }).count(), 0);
    const resp = await member.goto('/admin/recognition');
    assert.equal(resp.status(), 403);
    assert.deepEqual(page.problems, []);
  });
});
