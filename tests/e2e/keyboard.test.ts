import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { createOrg, type OrgFixture } from '../support/server.js';
import { browserMissing, startConsole, type ConsoleHarness } from './support.js';

/** What has focus, described as a person hears it: role, name (label) and tag. */
async function focused(page: Page): Promise<string> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el || el === document.body) return 'body';
    const labelled = el.getAttribute('aria-label') ?? (el.id ? document.querySelector(`label[for="${el.id}"]`)?.textContent : null) ?? el.closest('label')?.textContent ?? el.textContent ?? '';
    const type = el.tagName === 'INPUT' && el.getAttribute('type') ? `[${el.getAttribute('type')}]` : '';
    return `${el.tagName.toLowerCase()}${type}: ${labelled.trim().replace(/\s+/g, ' ')}`;
  });
}

/** Presses Tab until the focused element's description matches, as a keyboard user would. */
async function tabTo(page: Page, pattern: RegExp, max = 60): Promise<void> {
  const seen: string[] = [];
  for (let i = 0; i < max; i++) {
    const now = await focused(page);
    if (pattern.test(now)) return;
    seen.push(now);
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${pattern}; focus went through:\n${seen.join('\n')}`);
}

describe.skipIf(browserMissing)('the console with the keyboard only', () => {
  let harness: ConsoleHarness;
  let org: OrgFixture;

  beforeAll(async () => {
    harness = await startConsole();
    org = await createOrg(harness.server, 'Initech');
  }, 180_000);
  afterAll(async () => harness?.close());

  it('logs in, creates a restricted key with an IP range, copies its secret and closes the dialog, without a mouse', async () => {
    const page = harness.page;
    await page.goto('/login');
    await page.getByLabel('Email').waitFor();
    // The email field has focus on arrival.
    expect(await focused(page)).toMatch(/^input\[email\]: Email/);
    await page.keyboard.type(org.owner.email);
    await page.keyboard.press('Tab');
    await page.keyboard.type(org.owner.password);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'API Keys' }).waitFor();

    // After navigation, focus is on the new page's heading (screen readers announce it).
    expect(await focused(page)).toBe('h1: API Keys');
    await tabTo(page, /^button: Create API key/);
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: 'Create API key' }).waitFor();
    // Focus starts in the dialog, on the name; Escape closes it and focus comes back.
    expect(await focused(page)).toBe('input: Name');
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    expect(await focused(page)).toBe('button: Create API key');
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: 'Create API key' }).waitFor();

    await page.keyboard.type('Keyboard key');
    // Radio buttons are one Tab stop per group; arrows choose within it.
    await tabTo(page, /^input\[radio\]: All/);
    await page.keyboard.press('ArrowDown');
    expect(await focused(page)).toMatch(/^input\[radio\]: Restricted/);
    await tabTo(page, /^input\[checkbox\]: Traces: read/);
    await page.keyboard.press('Space');
    await tabTo(page, /^summary: Advanced/);
    await page.keyboard.press('Enter');
    await tabTo(page, /^button: Add IP range/);
    await page.keyboard.press('Enter');
    expect(await focused(page)).toBe('input: IP range 1');
    await page.keyboard.type('::/0');
    await page.getByText('accepts every IPv6 address').waitFor();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('127.0.0.1/32');
    // Focus stays inside the dialog: Tab from the last control wraps to the first.
    await tabTo(page, /^button: Create key/);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => Boolean(document.activeElement?.closest('[role="dialog"]')))).toBe(true);
    await tabTo(page, /^button: Create key/);
    await page.keyboard.press('Enter');

    const reveal = page.getByRole('dialog', { name: 'Save your API key' });
    await reveal.waitFor();
    await tabTo(page, /^button: Copy/);
    await page.keyboard.press('Enter');
    await reveal.getByRole('button', { name: 'Copied' }).waitFor();
    const token = await page.evaluate(() => navigator.clipboard.readText());
    expect(token).toMatch(/^kw_/);
    await tabTo(page, /^input\[checkbox\]: I have copied/);
    await page.keyboard.press('Space');
    await tabTo(page, /^button: Done/);
    await page.keyboard.press('Enter');
    await reveal.waitFor({ state: 'detached' });
    expect(await focused(page)).toBe('button: Create API key');
    await page.getByRole('link', { name: 'Keyboard key' }).waitFor();
    expect(await page.content()).not.toContain(token);

    const me = await fetch(`${harness.server.url}/api/auth/whoami`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);
    expect(((await me.json()) as any).permissions).toEqual(['traces:read']);
  });

  it('offers a skip link first on a fresh page', async () => {
    const page = harness.page;
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'API Keys' }).waitFor();
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('a: Skip to content');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('button: Create API key');
  });

  it('opens a row menu with the keyboard, moves with arrows and closes with Escape', async () => {
    const page = harness.page;
    await tabTo(page, /^button: Actions for Keyboard key/);
    await page.keyboard.press('Enter');
    expect(await focused(page)).toBe('button: View details');
    await page.keyboard.press('ArrowDown');
    expect(await focused(page)).toBe('button: Edit');
    await page.keyboard.press('End');
    expect(await focused(page)).toBe('button: Revoke');
    await page.keyboard.press('Escape');
    expect(await focused(page)).toBe('button: Actions for Keyboard key');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: 'Edit “Keyboard key”' }).waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
  });
});
