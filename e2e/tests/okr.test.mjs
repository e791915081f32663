// OKRs in a real browser: the admin creates an objective in the demo's
// current quarter, adds two key results (one increasing, one decreasing),
// checks in on one, and sees its progress bar and the objective's roll-up
// change, on the objective page and in the cycle overview's tree. Then the
// KPI dashboard with its sparklines and status colours.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DEMO, expectText, signIn, skipReason, unique, useBrowser } from '../helpers.mjs';

const skip = skipReason() ?? false;
const screenshots = process.env.PLAUDIT_E2E_SCREENSHOTS;
const it = (name, fn) => test(name, { skip }, fn);

describe('okrs', () => {
  const env = useBrowser(skip);
  const open = env.open;

  async function shot(page, name) {
    if (!screenshots) return;
    mkdirSync(screenshots, { recursive: true });
    await page.screenshot({ path: path.join(screenshots, `${name}.png`), fullPage: true });
  }

  async function addKeyResult(page, title, start, target, unit) {
    const form = page.getByTestId('new-kr-form');
    await form.getByLabel('Key result').fill(title);
    await form.locator('#kr_start').fill(start);
    await form.locator('#kr_target').fill(target);
    await form.getByLabel('Unit').fill(unit);
    await form.getByRole('button', { name: 'Add key result' }).click();
    await page.waitForLoadState('load');
    return page.locator('li[data-kr]', { hasText: title });
  }

  it('an objective with two key results: a check-in moves its bar and the roll-up', async () => {
    const page = await open();
    await signIn(page, DEMO.admin);
    await page.getByRole('link', { name: 'OKRs' }).click();
    await page.waitForURL((u) => u.pathname === '/okrs');
    await expectText(page.locator('h1'), 'OKRs');
    // The demo's tree: a yearly company objective over this quarter's team objectives.
    await expectText(page.getByTestId('okr-tree'), 'Become the product our customers recommend');
    await shot(page, 'okr-overview');

    const title = unique('Ship the mobile app ');
    await page.getByLabel('Objective', { exact: true }).fill(title);
    await page.getByRole('button', { name: 'Create objective' }).click();
    await page.waitForURL((u) => u.pathname.startsWith('/okrs/objectives/'));
    await expectText(page.getByTestId('objective-title'), title);
    await expectText(page.getByTestId('objective-progress-text'), '0 %');

    const calls = await addKeyResult(page, 'Beta testers signed up', '0', '10', 'testers');
    const latency = await addKeyResult(page, 'Reduce crash rate', '800', '200', 'per million');
    await expectText(calls.getByTestId('kr-progress-text'), '0 %');
    await expectText(latency.getByTestId('kr-progress-text'), '0 %');
    await expectText(latency, '800 per million → 200 per million');

    // Check in on the first: 5 of 10 is 50 %, and the objective reads (50 + 0) / 2 = 25 %.
    const form = calls.getByTestId('check-in-form');
    await form.getByLabel('New value').fill('5');
    await form.getByLabel('Confidence').selectOption('at_risk');
    await form.getByLabel('Note').fill('Halfway there');
    await form.getByRole('button', { name: 'Check in' }).click();
    await page.waitForLoadState('load');
    await expectText(calls.getByTestId('kr-progress-text'), '50 %');
    assert.equal(await calls.getByTestId('kr-progress').getAttribute('value'), '50');
    await expectText(latency.getByTestId('kr-progress-text'), '0 %');
    await expectText(page.getByTestId('objective-progress-text'), '25 %');
    assert.equal(await page.getByTestId('objective-progress').getAttribute('value'), '25');
    await expectText(page.getByTestId('objective-status'), 'at risk');
    await expectText(calls, 'Halfway there');
    assert.equal(await calls.locator('svg.chart polyline').count(), 1, 'the check-in history is charted');

    // The decreasing one: 500 is halfway from 800 to 200 → (50 + 50) / 2 = 50 %.
    const second = latency.getByTestId('check-in-form');
    await second.getByLabel('New value').fill('500');
    await second.getByRole('button', { name: 'Check in' }).click();
    await page.waitForLoadState('load');
    await expectText(latency.getByTestId('kr-progress-text'), '50 %');
    await expectText(page.getByTestId('objective-progress-text'), '50 %');
    await shot(page, 'okr-objective');

    // A bad value is refused beside its field and changes nothing.
    await second.getByLabel('New value').fill('lots');
    await second.getByRole('button', { name: 'Check in' }).click();
    await page.waitForLoadState('load');
    await expectText(page.locator('.error-summary'), /enter a number/i);
    await expectText(page.getByTestId('objective-progress-text'), '50 %');

    // The overview's tree shows the roll-up too.
    await page.goto('/okrs');
    const node = page.locator('li.okr-node', { hasText: title });
    await expectText(node.getByTestId('tree-progress-text'), '50 %');
    assert.deepEqual(page.problems, []);
  });

  it('the KPI dashboard colours statuses and draws sparklines', async () => {
    const page = await open();
    await signIn(page, DEMO.admin);
    await page.getByRole('link', { name: 'KPIs' }).click();
    await page.waitForURL((u) => u.pathname === '/kpis');
    const table = page.getByTestId('kpi-table');
    await expectText(table, 'API p95 latency');
    assert.ok((await table.locator('svg.chart').count()) >= 3, 'a sparkline per KPI');
    assert.ok((await table.locator('.kpi-status').count()) >= 3);
    await table.getByRole('link', { name: 'API p95 latency' }).click();
    await page.waitForURL((u) => u.pathname.startsWith('/kpis/'));
    await expectText(page.getByTestId('kpi-status'), /healthy|warning|critical|stale/);

    // A CSV upload takes the good rows and reports the bad ones by line.
    const csv = 'date,value\n2026-03-28,410\n28/03/2026,400\n2026-03-29,not a number\n2026-03-30,390\n';
    await page.getByLabel('CSV file').setInputFiles({ name: 'latency.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.waitForLoadState('load');
    const report = page.getByTestId('csv-report');
    await expectText(report, '2 rows taken');
    await expectText(report, 'Line 3');
    await expectText(report, 'Line 4: the value is not a number');
    await shot(page, 'kpi');
    assert.deepEqual(page.problems, []);
  });
});
