import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createOrg, type OrgFixture } from '../support/server.js';
import { browserMissing, logIn, startConsole, type ConsoleHarness } from './support.js';

/**
 * Issue 15: the console flags keys that expire within 7 days, in the key list next to the status and
 * on the key's page, in words ("Expires in 3 days") rather than by colour alone, with the exact instant
 * in the badge's title. Keys that expire later, never, or are no longer active get no badge.
 * @see issue 15
 */
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe.skipIf(browserMissing)('the console: keys about to expire (issue 15)', () => {
  let harness: ConsoleHarness;
  let org: OrgFixture;
  const ids: Record<string, string> = {};

  const page = () => harness.page;
  const keyRow = (name: string) => page().locator('tbody tr', { has: page().getByRole('link', { name, exact: true }) });
  const statusCell = (name: string) => keyRow(name).locator('td.cell-status');

  async function createKey(name: string, expiresInMs: number | null) {
    const body = { name, ...(expiresInMs === null ? {} : { expiresAt: new Date(Date.now() + expiresInMs).toISOString() }) };
    const created = await call(harness.server, 'POST', '/api/api-keys', { token: org.owner.session, headers: { 'x-organization-id': org.orgId }, body });
    expect(created.status, created.text).toBe(201);
    ids[name] = created.body.apiKey.id;
  }

  beforeAll(async () => {
    harness = await startConsole();
    org = await createOrg(harness.server, 'Initech');
    await createKey('Deploy bot', 3 * DAY + HOUR);
    await createKey('Nightly sync', 12 * HOUR + 10 * 60_000);
    await createKey('Almost a week', 6 * DAY + 20 * HOUR);
    await createKey('Next month', 30 * DAY);
    await createKey('Just over a week', 7 * DAY + 2 * HOUR);
    await createKey('Forever', null);
    await createKey('Revoked soon-expiring', 2 * DAY);
    const revoked = await call(harness.server, 'DELETE', `/api/api-keys/${ids['Revoked soon-expiring']}`, { token: org.owner.session, headers: { 'x-organization-id': org.orgId } });
    expect(revoked.status).toBe(200);
    await logIn(page(), org.owner.email, org.owner.password);
  }, 180_000);
  afterAll(async () => harness?.close());

  it('shows "Expires in …" next to the status of active keys that expire within 7 days, and only those', async () => {
    await keyRow('Deploy bot').waitFor();
    expect((await statusCell('Deploy bot').innerText()).replace(/\s+/g, ' ').trim()).toBe('Active Expires in 3 days');
    expect((await statusCell('Nightly sync').innerText()).replace(/\s+/g, ' ').trim()).toBe('Active Expires in 12 hours');
    expect((await statusCell('Almost a week').innerText()).replace(/\s+/g, ' ').trim()).toBe('Active Expires in 7 days');
    for (const name of ['Next month', 'Just over a week', 'Forever']) {
      expect((await statusCell(name).innerText()).trim(), name).toBe('Active');
    }
    // The words are text the whole row reads out, not a colour: the status cell's accessible text holds them.
    const badge = statusCell('Deploy bot').getByText('Expires in 3 days');
    expect(await badge.isVisible()).toBe(true);
    const title = await badge.getAttribute('title');
    expect(title).toMatch(/^Expires .*\d{4}.*: roll or replace it before then$/);
  });

  it('shows no badge on a revoked key, even one whose expiry is near', async () => {
    await page().goto('/settings/api-keys?status=revoked');
    await keyRow('Revoked soon-expiring').waitFor();
    expect(await keyRow('Revoked soon-expiring').getByText(/^Expires /).count()).toBe(0);
    await page().goto(`/settings/api-keys/${ids['Revoked soon-expiring']}`);
    await page().getByRole('heading', { level: 1, name: /Revoked soon-expiring/ }).waitFor();
    expect(await page().getByRole('heading', { level: 1 }).getByText(/^Expires /).count()).toBe(0);
  });

  it("shows the badge on a key's own page, next to its status, and none on a key that expires later", async () => {
    await page().goto(`/settings/api-keys/${ids['Nightly sync']}`);
    const heading = page().getByRole('heading', { level: 1, name: /Nightly sync/ });
    await heading.waitFor();
    expect((await heading.innerText()).replace(/\s+/g, ' ').trim()).toBe('Nightly sync Active Expires in 12 hours');
    await page().goto(`/settings/api-keys/${ids['Next month']}`);
    const later = page().getByRole('heading', { level: 1, name: /Next month/ });
    await later.waitFor();
    expect((await later.innerText()).replace(/\s+/g, ' ').trim()).toBe('Next month Active');
    expect(harness.browserErrors).toEqual([]);
  });
});
