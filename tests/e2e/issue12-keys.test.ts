import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { call, createOrg, type OrgFixture, type Person } from '../support/server.js';
import { browserMissing, dialog, logIn, screenshot, startConsole, type ConsoleHarness } from './support.js';

/**
 * Issue 12's console items about keys (CONTRACT.md "Your own API ... finding keys"): a personal key
 * for a member chosen by name or email, the list's sortable columns, owner filter and search (kept in
 * the address), revocation reasons, the roll dialog's warning about an earlier overlap, the row menu
 * at 1280 × 800, and the IP-range hint applied with a click or the keyboard.
 */
describe.skipIf(browserMissing)('the console: finding, assigning, revoking and rolling keys (issue 12)', () => {
  let harness: ConsoleHarness;
  let org: OrgFixture;
  let grace: Person;
  let linus: Person;
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};

  const page = () => harness.page;
  const rows = () => page().locator('tbody tr');
  const names = () => rows().locator('.row-link').allTextContents();
  const keyRow = (name: string) => page().locator('tbody tr', { has: page().getByRole('link', { name, exact: true }) });
  const search = () => new URL(page().url()).searchParams;

  /** A member invited with a name, who accepted and logged in. */
  async function invite(name: string, role: 'MEMBER' | 'VIEWER' | 'ADMIN'): Promise<Person> {
    const email = `${name.split(' ')[0]!.toLowerCase()}-${Date.now().toString(36)}@example.test`;
    const password = `pw-${name.length}-long-enough`;
    const invited = await call(harness.server, 'POST', '/api/members', { token: org.owner.session, body: { email, role, name } });
    expect(invited.status).toBe(201);
    const accepted = await call(harness.server, 'POST', '/api/invitations/accept', { body: { token: invited.body.invitation.token, password } });
    expect(accepted.status).toBe(200);
    const login = await call(harness.server, 'POST', '/api/auth/login', { body: { email, password } });
    return { userId: invited.body.member.userId, email, password, session: login.body.sessionToken };
  }

  async function createKey(name: string, body: Record<string, unknown> = {}, session = org.owner.session) {
    const created = await call(harness.server, 'POST', '/api/api-keys', { token: session, body: { name, ...body } });
    expect(created.status, created.text).toBe(201);
    tokens[name] = created.body.token;
    ids[name] = created.body.apiKey.id;
    return created.body;
  }

  async function getKey(name: string) {
    return (await call(harness.server, 'GET', `/api/api-keys/${ids[name]}`, { token: org.owner.session })).body;
  }

  async function whoamiStatus(token: string) {
    return (await fetch(`${harness.server.url}/api/auth/whoami`, { headers: { authorization: `Bearer ${token}` } })).status;
  }

  async function rowAction(name: string, action: string) {
    await page().getByRole('button', { name: `Actions for ${name}` }).click();
    await page().getByRole('menuitem', { name: action }).click();
  }

  /** The focused element's accessible label (aria-label, or its label's text). */
  function focusedLabel(p: Page) {
    return p.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      return el?.getAttribute('aria-label') ?? (el?.id ? document.querySelector(`label[for="${el.id}"]`)?.textContent : null) ?? el?.textContent ?? '';
    });
  }

  beforeAll(async () => {
    harness = await startConsole({ viewport: { width: 1280, height: 800 } });
    org = await createOrg(harness.server, 'Analytical Engines');
    grace = await invite('Grace Hopper', 'MEMBER');
    linus = await invite('Linus Pauling', 'VIEWER');
    await logIn(page(), org.owner.email, org.owner.password);
  }, 180_000);
  afterAll(async () => harness?.close());

  it('lets an owner create a personal key for a member found by name or email; the key is theirs', async () => {
    await page().getByRole('button', { name: 'Create API key' }).first().click();
    const form = dialog(page());
    const picker = form.getByRole('combobox', { name: 'Key for' });
    // By default the key is the creator's own.
    expect(await picker.inputValue()).toBe(`${org.owner.email} (you)`);

    // By name: typing narrows the list; Enter picks the highlighted member.
    await picker.fill('hopper');
    const options = form.getByRole('listbox', { name: 'Key for' }).getByRole('option');
    await expect.poll(() => options.allTextContents()).toEqual([expect.stringContaining(grace.email)]);
    // By email, any case, then with the mouse.
    await picker.fill(linus.email.slice(0, 8).toUpperCase());
    await form.getByRole('option', { name: /Linus Pauling/ }).click();
    expect(await picker.inputValue()).toBe(`Linus Pauling (${linus.email})`);
    await picker.fill('grace');
    await picker.press('Enter');
    expect(await picker.inputValue()).toBe(`Grace Hopper (${grace.email})`);
    expect(await picker.getAttribute('aria-expanded')).toBe('false');
    // Escape with the list open closes the list, not the dialog.
    await picker.press('ArrowDown');
    await picker.press('Escape');
    expect(await form.isVisible()).toBe(true);

    // The permission grid now marks what the member's role does not allow.
    await form.getByRole('radio', { name: /^Restricted/ }).check();
    expect(await form.getByRole('checkbox', { name: /^Secrets: write/ }).getAttribute('aria-label')).toContain('Not in their role (Member)');
    await form.getByRole('checkbox', { name: 'Traces: read', exact: true }).check();
    await form.getByLabel('Name', { exact: true }).fill('Grace laptop');
    await form.getByRole('button', { name: 'Create key' }).click();
    const reveal = dialog(page());
    await reveal.getByRole('heading', { name: 'Save your API key' }).waitFor();
    const token = await reveal.getByLabel('Secret key').inputValue();
    await reveal.getByRole('checkbox', { name: /I have copied the secret/ }).check();
    await reveal.getByRole('button', { name: 'Done' }).click();
    await reveal.waitFor({ state: 'detached' });

    const me = await fetch(`${harness.server.url}/api/auth/whoami`, { headers: { authorization: `Bearer ${token}` } });
    const whoami = (await me.json()) as any;
    expect(whoami.permissions).toEqual(['traces:read']);
    const listed = await call(harness.server, 'GET', '/api/api-keys?q=Grace%20laptop', { token: org.owner.session });
    expect(listed.body.data).toHaveLength(1);
    expect(listed.body.data[0]).toMatchObject({ keyType: 'personal', ownerUserId: grace.userId, createdByUserId: org.owner.userId });
    ids['Grace laptop'] = listed.body.data[0].id;
    // The list says whose key it is.
    expect(await keyRow('Grace laptop').locator('.cell-type').textContent()).toContain(grace.email);
  });

  it('shows a member no member picker: their personal keys are their own', async () => {
    const context = await harness.browser.newContext({ baseURL: harness.server.url, viewport: { width: 1280, height: 800 } });
    try {
      const memberPage = await context.newPage();
      await logIn(memberPage, grace.email, grace.password);
      await memberPage.getByRole('link', { name: 'Grace laptop' }).waitFor();
      await memberPage.getByRole('button', { name: 'Create API key' }).first().click();
      const form = dialog(memberPage);
      await form.getByLabel('Name', { exact: true }).waitFor();
      expect(await form.getByRole('combobox', { name: 'Key for' }).count()).toBe(0);
      expect(await form.getByText('Key for').count()).toBe(0);
      // Nor an owner filter on the list.
      await memberPage.keyboard.press('Escape');
      expect(await memberPage.getByLabel('Owner').count()).toBe(0);
    } finally {
      await context.close();
    }
  });

  it('sorts by name, expiry and last use from the column headers, and keeps the order across a reload', async () => {
    await createKey('bravo', { expiresAt: '2031-03-01' });
    await createKey('Alpha', { keyType: 'service', expiresAt: '2030-06-01' });
    await createKey('charlie');
    expect(await whoamiStatus(tokens.Alpha!)).toBe(200);
    await expect.poll(async () => (await getKey('Alpha')).lastUsedAt, { timeout: 5000 }).not.toBeNull();
    await page().reload();
    await keyRow('charlie').waitFor();

    // The default: newest first, and the address says nothing.
    expect(await page().getByRole('columnheader', { name: /Created/ }).getAttribute('aria-sort')).toBe('descending');
    expect((await names()).slice(0, 3)).toEqual(['charlie', 'Alpha', 'bravo']);
    expect(search().get('sort')).toBeNull();

    const header = (name: string) => page().getByRole('columnheader', { name: new RegExp(`^${name}`) });
    await header('Name').getByRole('button').click();
    await page().waitForURL(/sort=name/);
    await expect.poll(() => header('Name').getAttribute('aria-sort')).toBe('ascending');
    const all = await names();
    await expect.poll(names).toEqual([...all].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())));
    expect(await header('Name').locator('.sort-arrow svg').count()).toBe(1);
    await header('Name').getByRole('button').click();
    await page().waitForURL(/sort=-name/);
    await expect.poll(names).toEqual([...all].sort((a, b) => b.toLowerCase().localeCompare(a.toLowerCase())));

    // Dates start newest (latest) first; keys without expiry come last either way. The list is the
    // API's own order for that sort (Grace's key expires in 90 days, Alpha in 2030, bravo in 2031).
    const apiOrder = async (sort: string) => (await call(harness.server, 'GET', `/api/api-keys?sort=${sort}`, { token: org.owner.session })).body.data.map((k: { name: string }) => k.name);
    const expiresCells = () => rows().locator('td:nth-child(7)').allTextContents();
    await header('Expires').getByRole('button').click();
    await page().waitForURL(/sort=-expiresAt/);
    await expect.poll(async () => (await names()).slice(0, 3)).toEqual(['bravo', 'Alpha', 'Grace laptop']);
    expect(await names()).toEqual(await apiOrder('-expiresAt'));
    await header('Expires').getByRole('button').click();
    await page().waitForURL(/sort=expiresAt/);
    await expect.poll(async () => (await names()).slice(0, 3)).toEqual(['Grace laptop', 'Alpha', 'bravo']);
    expect(await names()).toEqual(await apiOrder('expiresAt'));
    expect((await expiresCells()).slice(3).every((text) => text === 'Never')).toBe(true);

    await page().reload();
    await keyRow('Alpha').waitFor();
    await expect.poll(() => header('Expires').getAttribute('aria-sort')).toBe('ascending');
    expect((await names()).slice(0, 3)).toEqual(['Grace laptop', 'Alpha', 'bravo']);

    await header('Last used').getByRole('button').click();
    await page().waitForURL(/sort=-lastUsedAt/);
    await expect.poll(async () => (await names())[0]).toBe('Alpha');
    // Back to the default order: it leaves the address.
    await header('Created').getByRole('button').click();
    await expect.poll(() => search().get('sort')).toBeNull();
    // The address changes before React renders the new order: wait for the header, too.
    await expect.poll(() => header('Created').getAttribute('aria-sort')).toBe('descending');
  });

  it('filters by owner, from the members list, kept in the address', async () => {
    const owner = page().getByLabel('Owner');
    expect(await owner.locator('option').allTextContents()).toEqual(expect.arrayContaining(['All owners', `Grace Hopper (${grace.email})`, `Linus Pauling (${linus.email})`]));
    await owner.selectOption({ label: `Grace Hopper (${grace.email})` });
    await page().waitForURL(new RegExp(`owner=${grace.userId}`));
    await expect.poll(names).toEqual(['Grace laptop']);
    await page().reload();
    await keyRow('Grace laptop').waitFor();
    expect(await names()).toEqual(['Grace laptop']);
    expect(await page().getByLabel('Owner').inputValue()).toBe(grace.userId);
    await page().getByLabel('Owner').selectOption('');
    await expect.poll(async () => (await names()).length).toBeGreaterThan(3);
  });

  it('searches by name, id, last four or a pasted key, and never puts a pasted key in the address', async () => {
    const box = page().getByLabel('Search keys');
    const placeholder = (await box.getAttribute('placeholder')) ?? '';
    for (const word of [/name/i, /\bid\b/, /last 4/, /pasted key/]) expect(placeholder).toMatch(word);
    const describedBy = await box.getAttribute('aria-describedby');
    expect(await page().locator(`[id="${describedBy}"]`).textContent()).toMatch(/name.*key id.*last four.*whole pasted key/);

    await box.fill('CHAR');
    await page().waitForURL(/q=CHAR/);
    await expect.poll(names).toEqual(['charlie']);
    await page().reload();
    await expect.poll(names).toEqual(['charlie']);
    expect(await page().getByLabel('Search keys').inputValue()).toBe('CHAR');

    await page().getByLabel('Search keys').fill(ids.bravo!);
    await page().waitForURL(new RegExp(`q=${ids.bravo}`));
    await expect.poll(names).toEqual(['bravo']);

    await page().getByLabel('Search keys').fill(tokens.Alpha!.slice(-4));
    await expect.poll(names).toEqual(['Alpha']);

    await page().getByLabel('Search keys').fill(tokens.charlie!);
    await expect.poll(names).toEqual(['charlie']);
    expect(page().url()).not.toContain(tokens.charlie!.slice(-12));
    expect(search().get('q')).toBeNull();
    await page().getByLabel('Search keys').fill('');
    await expect.poll(async () => (await names()).length).toBeGreaterThan(3);
  });

  it('asks for an optional reason when revoking, at most 200 characters, and lists revoked keys with their date and reason', async () => {
    await rowAction('bravo', 'Revoke');
    const confirm = page().getByRole('alertdialog');
    const reason = confirm.getByLabel('Reason (optional)');
    await confirm.getByText('0/200 characters').waitFor();
    await reason.fill('x'.repeat(201));
    await confirm.getByText('Use at most 200 characters.').waitFor();
    expect(await confirm.getByRole('button', { name: 'Revoke key' }).isDisabled()).toBe(true);
    await reason.fill('Laptop stolen at the airport');
    await confirm.getByText('28/200 characters').waitFor();
    await screenshot(page(), 'revoke-key-reason');
    await confirm.getByRole('button', { name: 'Revoke key' }).click();
    await confirm.waitFor({ state: 'detached' });
    const revoked = await getKey('bravo');
    expect(revoked).toMatchObject({ status: 'revoked', revokedReason: 'Laptop stolen at the airport' });
    expect(revoked.revokedAt).not.toBeNull();

    // A leak report revokes with the reason "leaked".
    const leak = await call(harness.server, 'POST', '/api/keys/leaked', { body: { key: tokens.charlie, source: 'e2e', url: 'https://example.test/paste' } });
    expect(leak.status).toBe(202);
    await expect.poll(async () => (await getKey('charlie')).revokedReason).toBe('leaked');

    await page().getByRole('button', { name: 'Revoked', exact: true }).click();
    await keyRow('bravo').waitFor();
    await keyRow('charlie').waitFor();
    // The date column is the revocation's, with the reason, not the creation date.
    expect(await page().getByRole('columnheader', { name: 'Revoked' }).count()).toBe(1);
    expect(await page().getByRole('columnheader', { name: /^Created/ }).count()).toBe(0);
    const revokedOn = new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeZone: 'UTC' }).format(new Date(revoked.revokedAt));
    expect(await keyRow('bravo').getByTestId('revocation').textContent()).toBe(revokedOn);
    expect(await page().getByRole('columnheader', { name: 'Reason' }).count()).toBe(1);
    expect(await keyRow('bravo').getByTestId('revoked-reason').textContent()).toBe('Laptop stolen at the airport');
    expect(await keyRow('charlie').getByTestId('revoked-reason').textContent()).toMatch(/^Leaked/);
    await screenshot(page(), 'api-keys-revoked');
    // Among keys of every status, a revoked key's date cell says it is the revocation's, with the reason.
    await page().getByRole('button', { name: 'All', exact: true }).click();
    await keyRow('Alpha').waitFor();
    expect(await page().getByRole('columnheader', { name: /^Created/ }).count()).toBe(1);
    expect(await keyRow('bravo').getByTestId('revocation').textContent()).toBe(`${revokedOn}Revoked: Laptop stolen at the airport`);
    expect(await keyRow('Alpha').getByTestId('revocation').count()).toBe(0);

    await keyRow('charlie').getByRole('link', { name: 'charlie' }).click();
    await page().getByRole('heading', { level: 1, name: /charlie/ }).waitFor();
    expect(await page().getByTestId('revocation-reason').textContent()).toMatch(/^Leaked/);
    await page().goBack();
    await keyRow('bravo').getByRole('link', { name: 'bravo' }).click();
    expect(await page().getByTestId('revocation-reason').textContent()).toBe('Laptop stolen at the airport');
    await page().getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'API Keys' }).click();
    await keyRow('Alpha').waitFor();
  });

  it('warns before a second roll that the earlier roll’s old secret ends at once, and shows the answer’s warning after', async () => {
    await rowAction('Alpha', 'Roll');
    let roll = dialog(page());
    await roll.getByRole('heading', { name: 'Roll “Alpha”' }).waitFor();
    expect(await roll.getByTestId('roll-overlap-warning').count()).toBe(0);
    await roll.getByRole('radio', { name: /In 1 hour/ }).check();
    await roll.getByRole('button', { name: 'Roll key' }).click();
    let reveal = dialog(page());
    await reveal.getByRole('heading', { name: 'Your new secret' }).waitFor();
    const second = await reveal.getByLabel('Secret key').inputValue();
    expect(await reveal.locator('[data-warning]').count()).toBe(0);
    await reveal.getByRole('checkbox', { name: /I have copied the secret/ }).check();
    await reveal.getByRole('button', { name: 'Done' }).click();
    await reveal.waitFor({ state: 'detached' });
    expect(await whoamiStatus(tokens.Alpha!)).toBe(200);
    const overlapEndsAt = (await getKey('Alpha')).rollOverlapEndsAt as string;
    expect(overlapEndsAt).not.toBeNull();

    // Before confirming, the dialog says what a second roll ends, and when it would have ended.
    await rowAction('Alpha', 'Roll');
    roll = dialog(page());
    const warning = roll.getByTestId('roll-overlap-warning');
    await warning.waitFor();
    const endsAt = new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }).format(new Date(overlapEndsAt));
    expect(await warning.textContent()).toContain(endsAt);
    expect(await warning.textContent()).toMatch(/ends that older secret at once/);
    await screenshot(page(), 'roll-key-overlap-warning');
    // Nothing happened yet: the first secret still works.
    expect(await whoamiStatus(tokens.Alpha!)).toBe(200);
    await roll.getByRole('button', { name: 'Roll key' }).click();
    reveal = dialog(page());
    await reveal.getByRole('heading', { name: 'Your new secret' }).waitFor();
    const shown = reveal.locator('[data-warning="previous_overlap_ended"]');
    await shown.waitFor();
    expect(await shown.textContent()).toContain(endsAt);
    const third = await reveal.getByLabel('Secret key').inputValue();
    expect(await whoamiStatus(tokens.Alpha!)).toBe(401);
    expect(await whoamiStatus(second)).toBe(401);
    expect(await whoamiStatus(third)).toBe(200);
    await reveal.getByRole('checkbox', { name: /I have copied the secret/ }).check();
    await reveal.getByRole('button', { name: 'Done' }).click();
    await reveal.waitFor({ state: 'detached' });
  });

  it('at 1280 × 800, opens a row’s menu without scrolling the table sideways or clipping names, inside the viewport', async () => {
    await createKey('Production deploy pipeline', { keyType: 'service', expiresAt: '2030-12-31' });
    await createKey('Nightly warehouse export', { assignedToUserId: grace.userId });
    await page().reload();
    await keyRow('Production deploy pipeline').waitFor();
    expect(page().viewportSize()).toEqual({ width: 1280, height: 800 });

    const measure = () =>
      page().evaluate(() => {
        const wrap = document.querySelector<HTMLElement>('.table-wrap')!;
        const clipped = Array.from(document.querySelectorAll<HTMLElement>('.cell-name .row-link'))
          .filter((link) => link.scrollWidth > link.clientWidth || link.scrollHeight > link.clientHeight || link.getBoundingClientRect().right > link.closest('td')!.getBoundingClientRect().right)
          .map((link) => link.textContent);
        const menu = document.querySelector('[role="menu"]')?.getBoundingClientRect();
        return {
          overflow: wrap.scrollWidth - wrap.clientWidth,
          scrollLeft: wrap.scrollLeft,
          clipped,
          menu: menu ? { left: menu.left, right: menu.right, top: menu.top, bottom: menu.bottom } : null,
          viewport: { width: window.innerWidth, height: window.innerHeight },
        };
      });

    for (const name of ['Production deploy pipeline', 'Nightly warehouse export']) {
      await page().getByRole('button', { name: `Actions for ${name}` }).click();
      await page().getByRole('menu').waitFor();
      const seen = await measure();
      expect(seen.overflow).toBeLessThanOrEqual(0);
      expect(seen.scrollLeft).toBe(0);
      expect(seen.clipped).toEqual([]);
      expect(seen.menu).not.toBeNull();
      expect(seen.menu!.left).toBeGreaterThanOrEqual(0);
      expect(seen.menu!.top).toBeGreaterThanOrEqual(0);
      expect(seen.menu!.right).toBeLessThanOrEqual(seen.viewport.width);
      expect(seen.menu!.bottom).toBeLessThanOrEqual(seen.viewport.height);
      if (name === 'Production deploy pipeline') await screenshot(page(), 'api-keys-row-menu');
      await page().keyboard.press('Escape');
      await page().getByRole('menu').waitFor({ state: 'detached' });
    }
    // The account menu at the bottom of the sidebar opens upwards, inside the viewport too.
    await page().getByRole('button', { name: /account menu/ }).click();
    await page().getByRole('menu', { name: 'Account' }).waitFor();
    const account = await measure();
    expect(account.menu!.bottom).toBeLessThanOrEqual(account.viewport.height);
    expect(account.menu!.left).toBeGreaterThanOrEqual(0);
    await page().keyboard.press('Escape');
  });

  it('applies the IP range hint "did you mean …?" with a click or the keyboard', async () => {
    await page().getByRole('button', { name: 'Create API key' }).first().click();
    const form = dialog(page());
    await form.getByText('Advanced: scopes and allowed IP ranges').click();
    await form.getByRole('button', { name: 'Add IP range' }).click();
    const first = form.getByLabel('IP range 1', { exact: true });
    await first.fill('10.0.0.1/8');
    await form.getByText(/has host bits set; did you mean/).waitFor();
    await form.getByRole('button', { name: 'Use 10.0.0.0/8 for IP range 1' }).click();
    expect(await first.inputValue()).toBe('10.0.0.0/8');
    expect(await form.getByText(/did you mean/).count()).toBe(0);

    await form.getByRole('button', { name: 'Add IP range' }).click();
    const second = form.getByLabel('IP range 2', { exact: true });
    await second.fill('192.168.1.1/16');
    await form.getByRole('button', { name: 'Use 192.168.0.0/16 for IP range 2' }).waitFor();
    await second.focus();
    // Keyboard: Tab reaches the hint (past the row's remove button), Enter applies it.
    for (let i = 0; i < 3 && !(await focusedLabel(page())).startsWith('Use 192.168.0.0/16'); i++) await page().keyboard.press('Tab');
    expect(await focusedLabel(page())).toBe('Use 192.168.0.0/16 for IP range 2');
    await page().keyboard.press('Enter');
    await expect.poll(() => second.inputValue()).toBe('192.168.0.0/16');
    // The hint's button goes away with the hint; the field gets the focus back on the next task.
    await expect.poll(() => focusedLabel(page())).toBe('IP range 2');
    expect(await form.getByText(/did you mean/).count()).toBe(0);
    await form.getByRole('button', { name: 'Cancel' }).click();
    await form.waitFor({ state: 'detached' });
  });

  it('raised no script error and no Content-Security-Policy violation in the browser', () => {
    expect(harness.browserErrors).toEqual([]);
  });
});
