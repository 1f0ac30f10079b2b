import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { issueSetupToken, type Store } from '@keyward/core';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { call, startServer, type TestServer } from '../support/server.js';

/**
 * End-to-end support: the real server (composed in-process, as the black-box tests start it) serving
 * the built console, driven by Debian's Chromium through playwright-core.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const consoleDir = join(root, 'packages/console');
export const consoleDist = join(consoleDir, 'dist');
export const screenshotDir = join(root, 'docs/console');
const chromiumPath = process.env.KEYWARD_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Without Chromium on a developer's machine the suites skip, saying so; under CI a missing browser is
 * a failure (`.ci/run` installs it).
 */
export const browserMissing = !existsSync(chromiumPath) && process.env.CI !== 'true';
if (browserMissing) console.warn(`e2e: skipping the console suites: no Chromium at ${chromiumPath} (apt-get install chromium, or set KEYWARD_CHROMIUM)`);

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Builds the console when dist/ is missing or older than its sources (test files run in parallel:
 * one builds under a lock directory, the others wait for it).
 */
export async function ensureConsoleBuilt(): Promise<void> {
  const stale = () => {
    const index = join(consoleDist, 'index.html');
    if (!existsSync(index)) return true;
    const sources = Math.max(newestMtime(join(consoleDir, 'src')), newestMtime(join(consoleDir, 'index.html')), newestMtime(join(consoleDir, 'vite.config.ts')));
    return sources > statSync(index).mtimeMs;
  };
  if (!stale()) return;
  const lock = join(root, '.test-tmp', 'console-build.lock');
  mkdirSync(dirname(lock), { recursive: true });
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`the console build lock ${lock} is held too long; remove it if no build runs`);
      await sleep(250);
      if (!stale()) return;
    }
  }
  try {
    // vitest sets NODE_ENV=test, which would bundle React's development build.
    if (stale()) execFileSync('npm', ['run', 'build', '--workspace', '@keyward/console'], { cwd: root, stdio: 'pipe', env: { ...process.env, NODE_ENV: 'production' } });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export interface ConsoleHarness {
  readonly server: TestServer;
  readonly browser: Browser;
  readonly context: BrowserContext;
  readonly page: Page;
  /** Errors the pages logged (CSP violations included) and uncaught exceptions. */
  readonly browserErrors: string[];
  close(): Promise<void>;
}

export interface ConsoleOptions {
  readonly viewport?: { width: number; height: number };
  /** A store opened by the test (closed by it), e.g. a SQLite file that operator commands also open. */
  readonly store?: Store;
  /** More server environment (the pepper, so that an operator command run beside it agrees). */
  readonly env?: Record<string, string>;
}

export async function startConsole(options: ConsoleOptions = {}): Promise<ConsoleHarness> {
  await ensureConsoleBuilt();
  const server = await startServer({
    ...(options.store ? { store: options.store } : {}),
    env: { KEYWARD_CONSOLE_DIR: consoleDist, KEYWARD_LOG_LEVEL: 'warn', KEYWARD_USAGE_FLUSH_MS: '250', ...options.env },
  });
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ baseURL: server.url, viewport: options.viewport ?? { width: 1280, height: 860 }, locale: 'en-US', timezoneId: 'UTC' });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const browserErrors: string[] = [];
  context.on('console', (message) => {
    // A 401 from whoami on the login page is how the console learns nobody is logged in.
    if (message.type() === 'error' && !/status of 40[13]/.test(message.text())) browserErrors.push(message.text());
  });
  context.on('weberror', (error) => browserErrors.push(String(error.error())));
  return {
    server,
    browser,
    context,
    page,
    browserErrors,
    async close() {
      await browser.close().catch(() => undefined);
      await server.close();
    },
  };
}

export interface Owner {
  readonly email: string;
  readonly password: string;
  readonly organizationName: string;
}

/** The first-run flow: a setup token issued as `npm start` does, opened as its printed link. */
export async function setUpFirstOrganization(harness: ConsoleHarness, owner: Owner): Promise<void> {
  const token = await issueSetupToken(harness.server.composed.services.deps);
  if (!token) throw new Error('setup is already complete on this server');
  const { page } = harness;
  await page.goto(`/setup#token=${token}`);
  await page.getByLabel('Organization name').fill(owner.organizationName);
  await page.getByLabel('Email').fill(owner.email);
  await page.getByLabel('Password').fill(owner.password);
  await page.getByRole('button', { name: 'Create organization' }).click();
  await page.getByRole('heading', { level: 1, name: 'API Keys' }).waitFor();
}

export async function logIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { level: 1, name: 'API Keys' }).waitFor();
}

/** A session token for API calls made beside the browser (fixtures, checks). */
export async function sessionOf(server: TestServer, email: string, password: string): Promise<string> {
  const login = await call(server, 'POST', '/api/auth/login', { body: { email, password } });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${login.text}`);
  return login.body.sessionToken;
}

/**
 * Saves docs/console/<name>.png (the README shows them). `dialogTop` scrolls an open dialog's body to
 * its top first; `height` makes the window that tall for the shot. Only with KEYWARD_SCREENSHOTS=1, so
 * that a test run never rewrites tracked files.
 */
export async function screenshot(page: Page, name: string, options: { height?: number; dialogTop?: boolean } = {}): Promise<void> {
  if (process.env.KEYWARD_SCREENSHOTS !== '1') return;
  mkdirSync(screenshotDir, { recursive: true });
  const viewport = page.viewportSize();
  if (options.height && viewport) await page.setViewportSize({ width: viewport.width, height: options.height });
  if (options.dialogTop) await page.evaluate(() => Array.from(document.querySelectorAll('.modal-root .modal-body')).pop()?.scrollTo(0, 0));
  // Confirmations from earlier steps would cover the page.
  await page.evaluate(() => document.querySelector<HTMLElement>('.toasts')?.style.setProperty('visibility', 'hidden'));
  // Let charts settle (they do not animate) and the caret stop mattering.
  await page.waitForTimeout(200);
  await page.screenshot({ path: join(screenshotDir, `${name}.png`), caret: 'hide', animations: 'disabled' });
  await page.evaluate(() => document.querySelector<HTMLElement>('.toasts')?.style.removeProperty('visibility'));
  if (options.height && viewport) await page.setViewportSize(viewport);
}

/** The dialog that is open now (the top one when a dialog opens over another). */
export function dialog(page: Page) {
  return page.locator('.modal-root [role="dialog"], .modal-root [role="alertdialog"]').last();
}
