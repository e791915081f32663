// Shared plumbing of the browser tests: start the built `plaudit` binary on a
// free port with the demo organisation, launch the system Chromium through
// playwright-core, and a few small assertion helpers.

import { spawn } from 'node:child_process';
import { after, before } from 'node:test';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..');

export const DEMO = {
  org: 'demo',
  admin: 'laurie.weir@example.com',
  adminName: 'Laurie Weir',
  member: 'stephane.bertrand@example.com',
  memberName: 'Stéphane Bertrand',
  password: 'plaudit-demo',
};

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/**
 * Why the suite cannot run here, or null when it can. Without Chromium the
 * tests are skipped with a notice, except under CI=true where that is a failure
 * (the tests then run and fail at launch with the reason).
 */
export function skipReason() {
  if (existsSync(CHROMIUM_PATH)) return null;
  const why = `Chromium not found at ${CHROMIUM_PATH} (install it with "apt-get install -y chromium" or set CHROMIUM_PATH)`;
  if (process.env.CI === 'true') {
    process.stderr.write(`e2e: ${why}; CI=true, so this is a failure\n`);
    return null;
  }
  process.stderr.write(`e2e: NOTICE: ${why}; skipping the browser tests\n`);
  return why;
}

export function binaryPath() {
  if (process.env.PLAUDIT_BIN) return process.env.PLAUDIT_BIN;
  const target = process.env.CARGO_TARGET_DIR
    ? path.resolve(repoRoot, process.env.CARGO_TARGET_DIR)
    : path.join(repoRoot, 'target');
  return path.join(target, 'debug', 'plaudit');
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts `plaudit serve --demo` on a free port in a fresh data dir and waits
 * for /readyz. PLAUDIT_DATABASE_URL, when set, is passed through (PostgreSQL);
 * `env` adds variables (e.g. PLAUDIT_SMTP_URL).
 */
export async function startServer({ env: extra = {} } = {}) {
  const bin = binaryPath();
  if (!existsSync(bin)) {
    throw new Error(`the plaudit binary is missing at ${bin}: run "cargo build -p plaudit" (or e2e/run.sh) first`);
  }
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'plaudit-e2e-'));
  const env = { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn', ...extra };
  const child = spawn(bin, ['serve', '--bind', `127.0.0.1:${port}`, '--data-dir', dataDir, '--demo'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  let exited = null;
  child.on('exit', (code, signal) => (exited = { code, signal }));

  const baseURL = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) {
      throw new Error(`plaudit exited early (${JSON.stringify(exited)}):\n${log}`);
    }
    try {
      const r = await fetch(`${baseURL}/readyz`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`plaudit was not ready within 60 s:\n${log}`);
    }
    await sleep(100);
  }

  return {
    baseURL,
    log: () => log,
    async stop() {
      if (!exited) {
        const done = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await done;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

/** A fresh, cookie-less browser context on the server. */
export async function newPage(browser, baseURL) {
  const context = await browser.newContext({ baseURL, locale: 'en-GB', viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(10_000);
  context.setDefaultNavigationTimeout(15_000);
  const page = await context.newPage();
  const problems = [];
  // Console errors (a CSP violation, a script error) and failed assets are
  // problems; a page answered 4xx on purpose is not.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(m.text());
  });
  page.on('response', (r) => {
    if (r.request().resourceType() !== 'document' && r.status() >= 400) {
      problems.push(`${r.status()} for ${r.url()}`);
    }
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  page.problems = problems;
  return { context, page };
}

/** Signs in through the form and waits for the landing page, the feed. */
export async function signIn(page, email, { org = DEMO.org, password = DEMO.password } = {}) {
  await page.goto('/signin');
  await page.getByLabel('Organisation').fill(org);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.pathname === '/feed');
}

/** Waits until the locator's text matches `pattern`, failing with what it saw. */
/** An admin opens one integration's page through Admin → Integrations. */
export async function openIntegration(page, name, path) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Integrations' }).click();
  await page.waitForURL((u) => u.pathname === '/admin/integrations');
  await page.getByTestId('integrations').getByRole('link', { name, exact: true }).click();
  await page.waitForURL((u) => u.pathname === path);
}

export async function expectText(locator, pattern, timeout = 10_000) {
  const deadline = Date.now() + timeout;
  let last = '';
  for (;;) {
    try {
      last = (await locator.first().textContent({ timeout: 1_000 })) ?? '';
      if (pattern instanceof RegExp ? pattern.test(last) : last.includes(pattern)) return last;
    } catch {
      // not there yet
    }
    if (Date.now() > deadline) {
      throw new Error(`expected text ${pattern} in ${locator}, saw ${JSON.stringify(last)}`);
    }
    await sleep(100);
  }
}

export function unique(prefix) {
  return `${prefix}${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/**
 * Inside a `describe`: one server and one browser for the whole suite,
 * closed afterwards. `env.open()` gives a fresh signed-out page.
 * `serverOptions` go to `startServer`.
 */
export function useBrowser(skip, serverOptions = {}) {
  const env = { server: undefined, browser: undefined, contexts: [] };
  before(async () => {
    if (skip) return;
    env.server = await startServer(serverOptions);
    env.browser = await launchBrowser();
  });
  after(async () => {
    for (const c of env.contexts) await c.close().catch(() => {});
    await env.browser?.close().catch(() => {});
    await env.server?.stop();
  });
  env.open = async () => {
    const { context, page } = await newPage(env.browser, env.server.baseURL);
    env.contexts.push(context);
    return page;
  };
  return env;
}
