import { createVerifier, type OrgId } from '@keyward/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createOrg, type OrgFixture, type Person } from '../support/server.js';
import { browserMissing, dialog, logIn, screenshot, startConsole, type ConsoleHarness } from './support.js';

/**
 * Per-key rate limits and credits in the console (issue 14): an owner creates a key with two limits and
 * credits refilled each month through the dialog (the dialog refusing a bad and a repeated limit name
 * first), the key's page shows them, the owner changes the credits (a removal below zero refused beside
 * the field), a gateway verifies the key until both a limit and the credits refuse it, and the key's page,
 * the list and the usage chart show it. A member sees the credits of their own key but gets no control
 * over them, and may still change its rate limits.
 * @see issue 14
 */
describe.skipIf(browserMissing)('rate limits and credits in the console', () => {
  let harness: ConsoleHarness;
  let org: OrgFixture;
  let member: Person;
  let verifier = '';
  let token = '';
  let keyId = '';

  const page = () => harness.page;
  const keyRow = (name: string) => page().locator('tbody tr', { has: page().getByRole('link', { name, exact: true }) });
  const limitUse = (name: string) => page().locator(`[data-testid="rate-limit-use"][data-limit-name="${name}"]`);
  const keyNow = async () => (await call(harness.server, 'GET', `/api/api-keys/${keyId}`, { token: org.owner.session })).body;
  const verify = async (cost?: number) => (await call(harness.server, 'POST', '/api/keys/verify', { token: verifier, body: { key: token, ...(cost === undefined ? {} : { cost }) } })).body;
  /** Clicks the limits card's Refresh until the text shows (credits trail the verdicts by a usage flush). */
  const refreshUntil = async (read: () => Promise<string>, expected: string | RegExp) =>
    expect
      .poll(
        async () => {
          await page().getByRole('button', { name: 'Refresh limits' }).click();
          return read();
        },
        { timeout: 8000 },
      )
      .toMatch(expected);

  beforeAll(async () => {
    harness = await startConsole();
    org = await createOrg(harness.server, 'Metered Corp');
    member = await org.addMember('MEMBER');
    verifier = (await createVerifier(harness.server.composed.services.deps, { name: 'gateway', orgId: org.orgId as OrgId })).token;
    await logIn(page(), org.owner.email, org.owner.password);
  }, 180_000);
  afterAll(async () => harness?.close());

  it('creates a key with two rate limits and monthly credits, checking the limit names first', async () => {
    await page().getByRole('button', { name: 'Create API key' }).first().click();
    const form = dialog(page());
    await form.getByLabel('Name', { exact: true }).fill('Metered gateway');
    await form.getByRole('button', { name: 'Add rate limit' }).click();
    await form.getByLabel('Rate limit 1 name').fill('Per Day');
    await form.getByLabel('Rate limit 1 requests').fill('5');
    await form.getByLabel('Rate limit 1 window unit').selectOption('days');
    await form.getByRole('button', { name: 'Add rate limit' }).click();
    await form.getByLabel('Rate limit 2 name').fill('per_12h');
    await form.getByLabel('Rate limit 2 requests').fill('1000');
    await form.getByLabel('Rate limit 2 window', { exact: true }).fill('25');
    await form.getByLabel('Rate limit 2 window unit').selectOption('hours');
    await form.getByRole('radio', { name: /^A number of credits/ }).check();
    await form.getByLabel('Credits to start with').fill('50');
    await form.getByLabel('Refill', { exact: true }).selectOption('month');
    await form.getByLabel('Refill to').fill('100');
    await form.getByText('At 00:00 UTC on the 1st of every month').waitFor();

    await form.getByRole('button', { name: 'Create key' }).click();
    await form.locator('.field-error', { hasText: 'Use 1 to 32 of a–z, 0–9' }).waitFor();
    await form.locator('.field-error', { hasText: 'Window: at most 1 day (86,400 seconds).' }).waitFor();
    await form.getByLabel('Rate limit 2 window', { exact: true }).fill('12');
    await form.getByText('per 12 hours = 43,200 seconds').waitFor();
    await form.getByLabel('Rate limit 1 name').fill('per_12h');
    await form.locator('.field-error', { hasText: 'Another limit has this name' }).first().waitFor();
    expect(await form.locator('.field-error', { hasText: 'Another limit has this name' }).count()).toBe(2);
    await form.getByLabel('Rate limit 1 name').fill('per_day');
    await form.locator('.field-error').first().waitFor({ state: 'detached' });
    // Nothing was sent while the form had mistakes.
    expect((await call(harness.server, 'GET', '/api/api-keys?q=Metered', { token: org.owner.session })).body.data).toEqual([]);
    await form.getByRole('heading', { name: 'Limits' }).scrollIntoViewIfNeeded();
    await screenshot(page(), 'create-key-limits');

    await form.getByRole('button', { name: 'Create key' }).click();
    const reveal = dialog(page());
    await reveal.getByRole('heading', { name: 'Save your API key' }).waitFor();
    token = await reveal.getByLabel('Secret key').inputValue();
    await reveal.getByRole('checkbox', { name: /I have copied the secret/ }).check();
    await reveal.getByRole('button', { name: 'Done' }).click();
    await reveal.waitFor({ state: 'detached' });

    const listed = (await call(harness.server, 'GET', '/api/api-keys?q=Metered', { token: org.owner.session })).body.data;
    expect(listed).toHaveLength(1);
    keyId = listed[0].id;
    expect(listed[0].rateLimits).toEqual([
      { name: 'per_day', limit: 5, windowSeconds: 86_400 },
      { name: 'per_12h', limit: 1000, windowSeconds: 43_200 },
    ]);
    expect(listed[0].credits).toEqual({ remaining: 50, refill: { amount: 100, interval: 'month' } });
    await keyRow('Metered gateway').getByTestId('credits-badge').getByText('50 credits').waitFor();
  });

  it('shows the key’s limits, each window’s use and its credits on its page', async () => {
    await page().getByRole('link', { name: 'Metered gateway', exact: true }).click();
    await page().getByRole('heading', { level: 1, name: /Metered gateway/ }).waitFor();
    await limitUse('per_day').getByText('5 per day').waitFor();
    expect(await limitUse('per_day').locator('.limit-use-text').textContent()).toMatch(/^0 of 5 today \(UTC\), resets [A-Z][a-z]{2} \d{1,2}, 00:00 UTC$/);
    expect(await limitUse('per_12h').locator('.limit-use-text').textContent()).toMatch(/^0 of 1,000 this 12-hour window, resets .*(00|12):00 UTC$/);
    expect(await page().getByTestId('credits-remaining').textContent()).toBe('50');
    expect(await page().getByTestId('credits-refill').textContent()).toBe('Refilled to 100 on the 1st of every month at 00:00 UTC.');
  });

  it('changes the credits: adds, refuses removing more than are left beside the field, and sets them', async () => {
    const change = async (op: 'Add' | 'Remove' | 'Set to', amount: string) => {
      await page().getByRole('button', { name: 'Change credits' }).click();
      const form = dialog(page());
      await form.getByRole('radio', { name: new RegExp(`^${op}`) }).check();
      await form.getByLabel('Amount').fill(amount);
      await form.getByRole('button', { name: 'Change credits' }).click();
      return form;
    };
    const added = await change('Add', '25');
    await added.waitFor({ state: 'detached' });
    await page().getByText('“Metered gateway” has 75 credits left.').waitFor();
    await refreshUntil(() => page().getByTestId('credits-remaining').innerText(), /^75$/);

    const removed = await change('Remove', '100');
    await removed.locator('.field-error').waitFor();
    expect((await keyNow()).credits.remaining).toBe(75);
    await removed.getByRole('button', { name: 'Cancel' }).click();

    const set = await change('Set to', '4');
    await set.waitFor({ state: 'detached' });
    await refreshUntil(() => page().getByTestId('credits-remaining').innerText(), /^4$/);
    expect((await keyNow()).credits).toEqual({ remaining: 4, refill: { amount: 100, interval: 'month' } });
    const audit = await call(harness.server, 'GET', `/api/audit-log?targetId=${keyId}`, { token: org.owner.session });
    // The refused removal changed nothing: two changes are in the audit log.
    const changes = audit.body.data.filter((entry: { action: string; outcome: string }) => entry.action === 'api_key.credits_changed' && entry.outcome === 'success');
    expect(changes).toHaveLength(2);
  });

  it('shows the use of each window, the spent credits, the list hints and the refusals apart in the chart', async () => {
    // 4 accepted requests spend all 4 credits and 4 of the 5 a day; then the credits refuse one, and a
    // request costing 2 is over the day's last unit.
    const verdicts = [await verify(), await verify(), await verify(), await verify(), await verify(), await verify(2)];
    expect(verdicts.map((v) => v.code)).toEqual(['VALID', 'VALID', 'VALID', 'VALID', 'USAGE_EXCEEDED', 'RATE_LIMITED']);
    expect(verdicts[3].credits).toEqual({ remaining: 0 });
    expect(verdicts[3].rateLimits.find((l: { name: string }) => l.name === 'per_day').remaining).toBe(1);

    await refreshUntil(() => page().getByTestId('credits-remaining').innerText(), /^0$/);
    await page().getByText('Used up').waitFor();
    expect(await limitUse('per_day').locator('.limit-use-text').textContent()).toMatch(/^4 of 5 today \(UTC\), resets /);
    expect(await limitUse('per_12h').locator('.limit-use-text').textContent()).toMatch(/^4 of 1,000 this 12-hour window, resets /);
    expect(await limitUse('per_day').getByRole('meter').getAttribute('aria-valuenow')).toBe('4');
    expect(await limitUse('per_day').locator('.meter-fill.is-near').count()).toBe(1);

    const usage = page().getByRole('region', { name: 'Usage' });
    await usage.getByRole('button', { name: 'Last hour' }).click();
    await expect
      .poll(
        async () => {
          await usage.getByRole('button', { name: 'Refresh', exact: true }).click();
          return usage.getByTestId('usage-rejected').innerText();
        },
        { timeout: 8000 },
      )
      .toBe('2');
    const legend = usage.locator('.recharts-legend-wrapper');
    for (const entry of ['Valid', 'Rate limited', 'Out of credits', 'Other rejections']) await legend.getByText(entry, { exact: true }).waitFor();
    // The two refusals are drawn in their own colours, not in the other rejections' red.
    await usage.locator('.recharts-bar-rectangle path[fill="#f79009"]').first().waitFor();
    await usage.locator('.recharts-bar-rectangle path[fill="#7a5af8"]').first().waitFor();
    expect(await usage.locator('.recharts-bar-rectangle path[fill="#dc2626"]').count()).toBe(0);
    await usage.locator('tr', { hasText: 'Out of credits' }).getByText('1', { exact: true }).waitFor();
    await usage.locator('tr', { hasText: 'Rate limited' }).getByText('1', { exact: true }).waitFor();
    await page().getByRole('region', { name: 'Limits' }).evaluate((card) => card.scrollIntoView({ block: 'start' }));
    await screenshot(page(), 'key-limits', { height: 1000 });

    await page().getByRole('link', { name: 'API Keys' }).first().click();
    const row = keyRow('Metered gateway');
    await row.getByText('No credits left').waitFor();
    await row.getByText('Near its rate limit').waitFor();
  });

  it('gives a member the credits of their own key to read, not to change, and lets them change its limits', async () => {
    const created = await call(harness.server, 'POST', '/api/api-keys', {
      token: org.owner.session,
      body: {
        name: 'Member notebook',
        assignedToUserId: member.userId,
        rateLimits: [{ name: 'per_minute', limit: 60, windowSeconds: 60 }],
        credits: { remaining: 10, refill: { amount: 10, interval: 'day' } },
      },
    });
    expect(created.status).toBe(201);
    await page().getByRole('button', { name: /account menu/ }).click();
    await page().getByRole('menuitem', { name: 'Log out' }).click();
    await logIn(page(), member.email, member.password);
    await page().getByRole('link', { name: 'Member notebook', exact: true }).click();
    await page().getByRole('heading', { level: 1, name: /Member notebook/ }).waitFor();
    expect(await page().getByTestId('credits-remaining').textContent()).toBe('10');
    expect(await page().getByTestId('credits-refill').textContent()).toBe('Refilled to 10 at 00:00 UTC every day.');
    expect(await limitUse('per_minute').locator('.limit-use-text').textContent()).toMatch(/^0 of 60 this minute, resets \d{2}:\d{2} UTC$/);
    expect(await page().getByRole('button', { name: 'Change credits' }).count()).toBe(0);

    await page().getByRole('button', { name: 'Edit', exact: true }).click();
    const form = dialog(page());
    await form.getByTestId('credits-read-only').getByText('10 left, refilled to 10 every day at 00:00 UTC.').waitFor();
    expect(await form.getByRole('radio', { name: /^A number of credits/ }).count()).toBe(0);
    expect(await form.getByLabel('Rate limit 1 name').inputValue()).toBe('per_minute');
    expect(await form.getByLabel('Rate limit 1 window unit').inputValue()).toBe('minutes');
    await form.getByLabel('Rate limit 1 requests').fill('120');
    await form.getByRole('button', { name: 'Save changes' }).click();
    await form.waitFor({ state: 'detached' });
    await limitUse('per_minute').getByText('120 per minute').waitFor();
    const saved = await call(harness.server, 'GET', `/api/api-keys/${created.body.apiKey.id}`, { token: member.session });
    expect(saved.body.rateLimits).toEqual([{ name: 'per_minute', limit: 120, windowSeconds: 60 }]);
    expect(saved.body.credits).toEqual({ remaining: 10, refill: { amount: 10, interval: 'day' } });
    // The one error the browser logged is the refused removal of credits, above.
    expect(harness.browserErrors).toEqual(['Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)']);
  });
});
