import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { call, startServer, type TestServer } from '../support/server.js';
import { browserMissing } from './support.js';

/**
 * CONTRACT.md "A readable API reference", in a browser: `GET /api/docs` renders every operation of
 * the served OpenAPI document under the page's own Content-Security-Policy, with no request to any
 * other origin and no error (a CSP refusal is a console error), so it works offline.
 */
const chromiumPath = process.env.KEYWARD_CHROMIUM ?? '/usr/bin/chromium';

describe.skipIf(browserMissing)('the API reference at /api/docs, in Chromium', () => {
  let server: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await startServer({ env: { KEYWARD_LOG_LEVEL: 'warn' } });
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await server?.close();
  });

  it('shows every operation of the document, loading nothing from another origin, with no error', async () => {
    const document = (await call(server, 'GET', '/api/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    const operations = Object.values(document.paths).reduce((n, methods) => n + Object.keys(methods).length, 0);
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    const requests: string[] = [];
    const errors: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(String(error)));

    const answer = await page.goto(`${server.url}/api/docs`);
    expect(answer?.status()).toBe(200);
    await page.waitForSelector('.opblock', { timeout: 20_000 });
    expect(await page.locator('.opblock').count()).toBe(operations);
    await expect.poll(() => page.locator('.info .title').innerText()).toContain('Keyward API');
    await expect.poll(() => page.locator('.opblock-summary-path', { hasText: '/api/auth/reset-password' }).count()).toBe(1);

    // Opening an operation shows its request body and answers, still without anything from elsewhere.
    await page.locator('.opblock-summary', { hasText: '/api/auth/change-password' }).first().click();
    await page.waitForSelector('.opblock.is-open .responses-wrapper');
    expect(await page.locator('.opblock.is-open .response-col_status').allInnerTexts()).toEqual(expect.arrayContaining(['204', '401', '422']));

    expect(requests.length).toBeGreaterThanOrEqual(5);
    expect(requests.filter((url) => !url.startsWith(`${server.url}/`) && !url.startsWith('data:'))).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });
});
