// Rewards in a real browser: a member redeems a culture reward (keyboard
// only, with the confirmation step), an admin fulfils it from the queue
// with a code, the member is told and sees the code; the statement page
// shows the month's total, the same as the API's, and its CSV.

import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO, expectText, signIn, skipReason, unique, useBrowser } from '../helpers.mjs';

const skip = skipReason() ?? false;
const it = (name, fn) => test(name, { skip }, fn);

describe('rewards', () => {
  const env = useBrowser(skip);
  const open = env.open;

  it('a member redeems a culture reward, an admin fulfils it with a code, the member sees the code', async () => {
    const member = await open();
    await signIn(member, DEMO.member);
    await member.getByRole('link', { name: 'Rewards', exact: true }).click();
    await member.waitForURL((u) => u.pathname === '/rewards');
    await expectText(member.getByTestId('earned-balance'), /You have/);

    // Only culture rewards, by the filter.
    await member.getByLabel('Kind').selectOption('culture');
    await member.getByRole('button', { name: 'Show' }).click();
    await member.waitForURL((u) => u.search.includes('kind=culture'));
    const names = await member.getByTestId('reward').locator('h2').allTextContents();
    assert.ok(names.includes('Team breakfast'), names.join(', '));
    assert.ok(!names.some((n) => n.includes('gift card')), names.join(', '));

    // Keyboard only: focus the link and press Enter, then confirm.
    const redeem = member.getByRole('link', { name: 'Redeem Team breakfast' });
    await redeem.focus();
    await member.keyboard.press('Enter');
    await member.waitForURL((u) => /\/rewards\/.+\/redeem$/.test(u.pathname));
    await expectText(member.locator('main'), /Afterwards you will have/);
    const confirm = member.getByRole('button', { name: /Confirm: redeem/ });
    await confirm.focus();
    await member.keyboard.press('Enter');
    await member.waitForURL((u) => u.pathname === '/redemptions');
    const row = member.getByTestId('my-redemption').first();
    await expectText(row, /Team breakfast/);
    await expectText(row.getByTestId('redemption-status'), 'pending');

    // The admin fulfils it from the queue with a code.
    const admin = await open();
    await signIn(admin, DEMO.admin);
    await admin.goto('/admin/rewards');
    const item = admin.getByTestId('queue-item').filter({ hasText: DEMO.memberName }).filter({ hasText: 'Team breakfast' });
    assert.equal(await item.count(), 1);
    const code = unique('CODE-');
    await item.getByLabel('Gift-card code').fill(code);
    await item.getByRole('button', { name: /^Fulfil/ }).click();
    await admin.waitForURL((u) => u.search.includes('saved=fulfilled'));
    assert.equal(await admin.getByTestId('queue-item').filter({ hasText: DEMO.memberName }).filter({ hasText: 'Team breakfast' }).count(), 0);

    // The member is told on the rewards page, and sees the code.
    await member.goto('/rewards');
    await expectText(member.getByTestId('redemption-notice'), /changed/);
    await member.getByTestId('redemption-notice').getByRole('link', { name: 'See my redemptions' }).click();
    await member.waitForURL((u) => u.pathname === '/redemptions');
    const fulfilled = member.getByTestId('my-redemption').filter({ hasText: 'Team breakfast' }).first();
    await expectText(fulfilled.getByTestId('redemption-status'), 'fulfilled');
    await expectText(fulfilled.getByTestId('redemption-code'), code);
    assert.deepEqual(member.problems, []);
    assert.deepEqual(admin.problems, []);
  });

  it('an admin renames a reward in its edit form and the member sees the new name', async () => {
    const admin = await open();
    await signIn(admin, DEMO.admin);
    await admin.goto('/admin/rewards');
    const edit = admin.getByTestId('reward-edit').filter({ hasText: 'Buy a book on us' });
    assert.equal(await edit.count(), 1);
    await edit.locator('summary').click();
    const name = unique('A book of your choice ');
    await edit.getByLabel('Name', { exact: true }).fill(name);
    await edit.getByRole('button', { name: /^Save/ }).click();
    await admin.waitForURL((u) => u.search.includes('saved=updated'));

    const member = await open();
    await signIn(member, DEMO.member);
    await member.goto('/rewards');
    const names = await member.getByTestId('reward').locator('h2').allTextContents();
    assert.ok(names.includes(name), names.join(', '));
    assert.deepEqual(member.problems, []);
    assert.deepEqual(admin.problems, []);
  });

  it('the statement page shows the month total the API bills, and its CSV', async () => {
    const admin = await open();
    await signIn(admin, DEMO.admin);
    // Last month has the demo's fulfilled gift cards and donations.
    const now = new Date(await admin.evaluate(() => new Date().toISOString()));
    const api = await admin.request.get(`/api/v1/billing/statements/${monthBefore(now)}`);
    const json = await api.json();
    assert.ok(json.lines.length > 0, JSON.stringify(json));
    assert.equal(json.totals.length, 1);
    const total = json.totals[0];
    assert.equal(total.face_value_minor, json.lines.reduce((s, l) => s + l.face_value_minor, 0));

    await admin.goto('/admin/rewards');
    await admin.getByRole('link', { name: 'Billing statements' }).click();
    await admin.getByLabel('Month').fill(json.month);
    await admin.getByRole('button', { name: 'Show' }).click();
    await admin.waitForURL((u) => u.search.includes(`month=${json.month}`));
    const shown = `${Math.trunc(total.face_value_minor / 100)}.${String(total.face_value_minor % 100).padStart(2, '0')} ${total.currency}`;
    await expectText(admin.getByTestId('statement-total'), shown);
    assert.equal(await admin.getByTestId('statement-line').count(), json.lines.length + json.culture_lines.length);

    const href = await admin.getByRole('link', { name: 'Download CSV' }).getAttribute('href');
    const csv = await admin.request.get(href);
    assert.ok(csv.headers()['content-type'].startsWith('text/csv'));
    const text = await csv.text();
    assert.ok(text.startsWith('date,member,reward,reward_kind,line,face_value_minor,currency,face_value'), text);
    assert.ok(text.includes(`${json.month},,,,total,${total.face_value_minor},${total.currency},${shown}`), text);
    assert.deepEqual(admin.problems, []);
  });
});

/** `YYYY-MM` of the month before `d` (the demo is in Europe/Oslo; mid-month days are safe either way). */
function monthBefore(d) {
  const oslo = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Oslo', year: 'numeric', month: '2-digit' }).format(d);
  const [y, m] = oslo.split('-').map(Number);
  const [py, pm] = m === 1 ? [y - 1, 12] : [y, m - 1];
  return `${py}-${String(pm).padStart(2, '0')}`;
}
