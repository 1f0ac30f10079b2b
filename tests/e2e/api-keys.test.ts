import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../support/server.js';
import { browserMissing, dialog, logIn, screenshot, sessionOf, setUpFirstOrganization, startConsole, type ConsoleHarness } from './support.js';

/**
 * The life of an API key in the console, in order: first-run setup, login, creation with a restricted
 * grid and an IP allowlist, the one-time secret, filters, edit, roll, revoke and usage.
 */
describe.skipIf(browserMissing)('the console: setup, login and the life of an API key', () => {
  let harness: ConsoleHarness;
  const owner = { email: 'ada@acme.test', password: 'a-long-password', organizationName: 'Acme' };
  let secret = '';
  let session = '';
  let ciToken = '';

  beforeAll(async () => {
    harness = await startConsole();
  }, 180_000);
  afterAll(async () => harness?.close());

  const page = () => harness.page;
  const keyRow = (name: string) => page().locator('tbody tr', { has: page().getByRole('link', { name, exact: true }) });

  async function whoami(token: string) {
    const response = await fetch(`${harness.server.url}/api/auth/whoami`, { headers: { authorization: `Bearer ${token}` } });
    return { status: response.status, body: (await response.json()) as any };
  }

  async function rowAction(name: string, action: string) {
    await page().getByRole('button', { name: `Actions for ${name}` }).click();
    await page().getByRole('menuitem', { name: action }).click();
  }

  it('sets up the first organization from the printed setup link', async () => {
    const setup = await call(harness.server, 'GET', '/api/setup');
    expect(setup.body).toEqual({ setupRequired: true });
    await setUpFirstOrganization(harness, owner);
    // The token left the address bar; the organization is bootstrapped and the page is empty.
    expect(page().url()).toBe(`${harness.server.url}/settings/api-keys`);
    await page().getByText('No API keys yet').waitFor();
    expect(await page().getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'API Keys' }).getAttribute('aria-current')).toBe('page');
    await screenshot(page(), 'api-keys-empty');
    session = await sessionOf(harness.server, owner.email, owner.password);
  });

  it('logs out, refuses a wrong password, and logs in', async () => {
    await page().getByRole('button', { name: /account menu/ }).click();
    await page().getByRole('menuitem', { name: 'Log out' }).click();
    await page().getByRole('heading', { name: 'Log in' }).waitFor();
    await page().getByLabel('Email').fill(owner.email);
    await page().getByLabel('Password').fill('not-the-password');
    await page().getByRole('button', { name: 'Log in' }).click();
    await page().getByText('The email or the password is not right.').waitFor();
    await screenshot(page(), 'login');
    await logIn(page(), owner.email, owner.password);
    // The session lives in an HttpOnly cookie: nothing readable by scripts holds it.
    const cookies = await harness.context.cookies();
    expect(cookies.find((c) => c.name === 'keyward_session')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    const storage = await page().evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }));
    expect(storage).not.toMatch(/kws_/);
  });

  it('creates a restricted personal key with an IP range, and warns on a range that allows everyone', async () => {
    await page().getByRole('button', { name: 'Create API key' }).first().click();
    const form = dialog(page());
    await form.getByRole('heading', { name: 'Create API key' }).waitFor();
    await form.getByLabel('Name', { exact: true }).fill('Deploy bot');
    await form.getByLabel('Description').fill('Deploys from the build server');
    await form.getByRole('radio', { name: /^Restricted/ }).check();
    await form.getByRole('checkbox', { name: 'Traces: read' }).check();
    await form.getByRole('checkbox', { name: 'Datasets: write' }).check();
    // Write includes read; read-only categories offer no write.
    expect(await form.getByRole('checkbox', { name: 'Datasets: read' }).isChecked()).toBe(true);
    expect(await form.locator('tr', { hasText: 'View cost analytics' }).getByText('Read only').count()).toBe(1);
    expect(await form.getByRole('checkbox', { name: 'Cost: write' }).count()).toBe(0);

    await screenshot(page(), 'create-key', { dialogTop: true });
    await form.getByText('Advanced: scopes and allowed IP ranges').click();
    await form.getByRole('button', { name: 'Add IP range' }).click();
    await form.getByLabel('IP range 1', { exact: true }).fill('0.0.0.0/0');
    const warning = form.getByTestId('cidr-wildcard-warning');
    await warning.waitFor();
    expect(await warning.textContent()).toContain('accepts every IPv4 address');
    await form.getByRole('button', { name: 'Add IP range' }).click();
    await form.getByLabel('IP range 2', { exact: true }).fill('10.0.0.1/8');
    await form.getByText('has host bits set; did you mean 10.0.0.0/8?').waitFor();
    await form.getByLabel('IP range 2', { exact: true }).fill('::1/128');
    await form.getByRole('button', { name: 'Add scope' }).click();
    await form.getByLabel('Scope 1 resource filter', { exact: true }).fill('projects/*/tr*ces');
    await form.getByText('"*" must be a whole segment').waitFor();
    await form.getByLabel('Scope 1 resource filter', { exact: true }).fill('*');
    await form.getByLabel('Scope 1 action', { exact: true }).selectOption('write');
    await warning.scrollIntoViewIfNeeded();
    await screenshot(page(), 'create-key-advanced');

    await form.getByLabel('IP range 1', { exact: true }).fill('127.0.0.0/8');
    await warning.waitFor({ state: 'detached' });
    await form.getByRole('button', { name: 'Create key' }).click();
    await page().getByRole('heading', { name: 'Save your API key' }).waitFor();
  });

  it('copies the one-time secret, which authenticates whoami, and is gone from the page after acknowledgement', async () => {
    const reveal = dialog(page());
    await reveal.getByText('This secret will never be shown again').waitFor();
    const done = reveal.getByRole('button', { name: 'Done' });
    expect(await done.isDisabled()).toBe(true);
    // Escape does not close it before the acknowledgement.
    await page().keyboard.press('Escape');
    expect(await reveal.isVisible()).toBe(true);

    await reveal.getByRole('button', { name: 'Copy' }).click();
    await reveal.getByRole('button', { name: 'Copied' }).waitFor();
    secret = await page().evaluate(() => navigator.clipboard.readText());
    expect(secret).toMatch(/^kw_[0-9A-Za-z]+_[0-9A-Za-z]+$/);
    expect(await reveal.getByLabel('Secret key').inputValue()).toBe(secret);
    await screenshot(page(), 'one-time-secret');

    const me = await whoami(secret);
    expect(me.status).toBe(200);
    expect(me.body.principal.type).toBe('api_key');
    expect(me.body.keyType).toBe('personal');
    expect(me.body.permissions).toEqual(expect.arrayContaining(['traces:read', 'datasets:read', 'datasets:write']));
    expect(me.body.permissions).not.toContain('traces:write');

    await reveal.getByRole('checkbox', { name: /I have copied the secret/ }).check();
    await done.click();
    await reveal.waitFor({ state: 'detached' });
    await keyRow('Deploy bot').waitFor();
    expect(await page().content()).not.toContain(secret);
    expect(page().url()).not.toContain(secret);
    const storage = await page().evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }));
    expect(storage).not.toContain(secret);
    const row = keyRow('Deploy bot');
    expect(await row.textContent()).toMatch(/Restricted · 3/);
    expect(await row.textContent()).toContain(secret.slice(-4));
  });

  it('filters by status and type, and searches by name', async () => {
    const created = [
      { name: 'CI pipeline', keyType: 'service', expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString(), allowedCidrs: ['10.0.0.0/8'] },
      { name: 'Local dev', keyType: 'personal' },
      { name: 'Old laptop', keyType: 'personal' },
    ];
    for (const body of created) {
      const answer = await call(harness.server, 'POST', '/api/api-keys', { token: session, body });
      expect(answer.status).toBe(201);
      if (body.name === 'CI pipeline') ciToken = answer.body.token;
    }
    const oldLaptop = await call(harness.server, 'GET', '/api/api-keys?q=Old%20laptop', { token: session });
    await call(harness.server, 'DELETE', `/api/api-keys/${oldLaptop.body.data[0].id}`, { token: session });
    await page().reload();
    await keyRow('CI pipeline').waitFor();
    expect(await page().locator('tbody tr').count()).toBe(3);
    await screenshot(page(), 'api-keys');
    // A laptop's narrow window: the table keeps its essential columns without scrolling.
    await page().setViewportSize({ width: 1000, height: 760 });
    const overflow = await page().evaluate(() => {
      const wrap = document.querySelector('.table-wrap')!;
      return wrap.scrollWidth - wrap.clientWidth;
    });
    await screenshot(page(), 'api-keys-narrow');
    await page().setViewportSize({ width: 1280, height: 860 });
    expect(overflow).toBeLessThanOrEqual(0);

    await page().getByLabel('Search keys').fill('deploy');
    await page().waitForURL(/q=deploy/);
    await page().locator('tbody tr').first().waitFor();
    await expect.poll(() => page().locator('tbody tr').count()).toBe(1);
    expect(await keyRow('Deploy bot').count()).toBe(1);
    await page().getByLabel('Search keys').fill('');
    await expect.poll(() => page().locator('tbody tr').count()).toBe(3);

    await page().getByLabel('Key type').selectOption('service');
    await expect.poll(() => page().locator('tbody tr').count()).toBe(1);
    expect(await keyRow('CI pipeline').count()).toBe(1);
    await page().getByLabel('Key type').selectOption('');

    await page().getByRole('button', { name: 'Revoked', exact: true }).click();
    await keyRow('Old laptop').waitFor();
    expect(await page().locator('tbody tr').count()).toBe(1);
    await page().getByRole('button', { name: 'Expired', exact: true }).click();
    await page().getByText('No expired keys').waitFor();
    await page().getByRole('button', { name: 'All', exact: true }).click();
    await expect.poll(() => page().locator('tbody tr').count()).toBe(4);
    await page().getByRole('button', { name: 'Active', exact: true }).click();
    await expect.poll(() => page().locator('tbody tr').count()).toBe(3);
  });

  it('edits a key, warning that narrowing access breaks callers at once and showing when it was last used', async () => {
    // The key was used by whoami above; usage (and lastUsedAt) is flushed every 250 ms in tests.
    await expect.poll(async () => (await call(harness.server, 'GET', '/api/api-keys?q=Deploy', { token: session })).body.data[0].lastUsedAt, { timeout: 5000 }).not.toBeNull();
    await page().reload();
    await rowAction('Deploy bot', 'Edit');
    const form = dialog(page());
    await form.getByRole('heading', { name: 'Edit “Deploy bot”' }).waitFor();
    await form.getByText('Narrowing access can break callers at once').waitFor();
    await form.getByText(/This key was last used/).waitFor();
    expect(await form.getByLabel('Name', { exact: true }).inputValue()).toBe('Deploy bot');
    expect(await form.getByLabel('IP range 1', { exact: true }).inputValue()).toBe('127.0.0.0/8');
    await form.getByRole('checkbox', { name: 'Datasets: write' }).uncheck();
    await form.getByText('Access changes apply immediately.').waitFor();
    await screenshot(page(), 'edit-key', { dialogTop: true });
    await form.getByRole('button', { name: 'Save changes' }).click();
    await form.waitFor({ state: 'detached' });
    await page().getByText('Saved “Deploy bot”.').waitFor();
    const me = await whoami(secret);
    expect(me.body.permissions).toContain('datasets:read');
    expect(me.body.permissions).not.toContain('datasets:write');
  });

  it('rolls a key with an overlap: the new secret is shown once and both secrets work until the overlap ends', async () => {
    await keyRow('Deploy bot').getByRole('link', { name: 'Deploy bot' }).click();
    await page().getByRole('heading', { level: 1, name: /Deploy bot/ }).waitFor();
    await page().getByRole('button', { name: 'Roll', exact: true }).click();
    const roll = dialog(page());
    await roll.getByRole('radio', { name: /In 1 hour/ }).check();
    await roll.getByRole('button', { name: 'Roll key' }).click();
    const reveal = dialog(page());
    await reveal.getByRole('heading', { name: 'Your new secret' }).waitFor();
    await reveal.getByText(/The previous secret keeps working until/).waitFor();
    const rolled = await reveal.getByLabel('Secret key').inputValue();
    expect(rolled).not.toBe(secret);
    expect((await whoami(rolled)).status).toBe(200);
    expect((await whoami(secret)).status).toBe(200);
    await reveal.getByRole('checkbox', { name: /I have copied the secret/ }).check();
    await reveal.getByRole('button', { name: 'Done' }).click();
    await reveal.waitFor({ state: 'detached' });
    expect(await page().content()).not.toContain(rolled);
    await page().getByText('Previous secret works until').waitFor();
    secret = rolled;
  });

  it('shows the requests just made in the usage chart, valid and rejected', async () => {
    for (let i = 0; i < 3; i++) expect((await whoami(secret)).status).toBe(200);
    await page().reload();
    await page().getByRole('heading', { level: 1, name: /Deploy bot/ }).waitFor();
    await page().getByRole('button', { name: 'Last hour' }).click();
    const chart = page().getByTestId('usage-chart');
    await chart.waitFor();
    // whoami: once at creation, once after the edit, twice around the roll, three times here.
    await expect.poll(async () => Number(await page().getByTestId('usage-valid').textContent()), { timeout: 5000 }).toBeGreaterThanOrEqual(7);
    expect(await chart.locator('.recharts-bar-rectangle').count()).toBeGreaterThan(0);
    expect(await chart.getAttribute('aria-label')).toMatch(/Last hour: \d+ valid and \d+ rejected requests, per minute/);
    await screenshot(page(), 'key-detail', { height: 1180 });
  });

  it('revokes a key after a confirmation that names it; the key stops working and is listed under Revoked', async () => {
    await page().getByRole('button', { name: 'Revoke', exact: true }).click();
    const confirm = page().getByRole('alertdialog');
    await confirm.getByRole('heading', { name: 'Revoke “Deploy bot”?' }).waitFor();
    expect(await confirm.textContent()).toMatch(/immediate and permanent/);
    await screenshot(page(), 'revoke-key');
    await confirm.getByRole('button', { name: 'Revoke key' }).click();
    await confirm.waitFor({ state: 'detached' });
    await page().getByRole('heading', { level: 1, name: /Deploy bot/ }).getByText('Revoked').waitFor();
    expect((await whoami(secret)).status).toBe(401);
    await page().getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'API Keys' }).click();
    await keyRow('CI pipeline').waitFor();
    expect(await keyRow('Deploy bot').count()).toBe(0);
    await page().getByRole('button', { name: 'Revoked', exact: true }).click();
    await keyRow('Deploy bot').waitFor();
    expect(await keyRow('Deploy bot').getByText('Revoked', { exact: true }).count()).toBe(1);
    // Revoked without a reason: the list says when, and that none was given.
    expect(await keyRow('Deploy bot').getByTestId('revoked-reason').textContent()).toBe('No reason given');
  });

  it('shows organization-wide usage with the top keys, and rejected requests by reason', async () => {
    // The CI key only works from 10.0.0.0/8: from loopback it is refused, and counted as rejected.
    for (let i = 0; i < 2; i++) expect((await whoami(ciToken)).status).toBe(403);
    await page().getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Usage' }).click();
    await page().getByRole('heading', { level: 1, name: 'Usage' }).waitFor();
    await page().getByRole('button', { name: 'Last hour' }).click();
    await page().getByRole('cell', { name: /Deploy bot/ }).waitFor();
    await expect.poll(async () => Number(await page().getByTestId('usage-valid').textContent())).toBeGreaterThanOrEqual(7);
    await page().getByRole('cell', { name: /IP not allowed/ }).waitFor();
    expect(Number(await page().getByTestId('usage-rejected').textContent())).toBeGreaterThanOrEqual(2);
    await screenshot(page(), 'usage');
  });

  it('raised no script error and no Content-Security-Policy violation in the browser', () => {
    expect(harness.browserErrors).toEqual([]);
  });
});
