import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createOrg, type OrgFixture, type Person } from '../support/server.js';
import { browserMissing, dialog, logIn, screenshot, startConsole, type ConsoleHarness } from './support.js';

/**
 * Settings → Webhooks in Chromium (issue 15): an owner adds an endpoint pointing at a real receiver on
 * loopback (the server allows private targets here), stores the one-time secret, sends a test event
 * and sees it delivered with its attempt; a receiver answering 500 shows a failed attempt, which Retry
 * sends again; disable, enable, roll the secret (the old one keeps signing beside the new one), delete.
 * A member sees neither the page nor its nav entry.
 * @see issue 15
 */

interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

describe.skipIf(browserMissing)('webhooks in the console', () => {
  let harness: ConsoleHarness;
  let org: OrgFixture;
  let member: Person;
  let receiver: Server;
  let receiverUrl: string;
  let answer = 204;
  let answerAfterMs = 0;
  const received: Received[] = [];
  let secret = '';
  let webhookId = '';

  const page = () => harness.page;
  const nav = () => page().getByRole('navigation', { name: 'Settings' });
  const log = () => page().getByRole('region', { name: 'Delivery log' });
  /** A wait that, when it times out, says what the log showed and what the API answered. */
  const explained = <T>(wait: Promise<T>): Promise<T> =>
    wait.catch(async (error: Error) => {
      const answer = await call(harness.server, 'GET', `/api/webhooks/${webhookId}/deliveries`, { token: org.owner.session });
      error.message += `\nThe log showed:\n${await log().innerText()}\nThe API answered: ${answer.text}`;
      throw error;
    });
  const webhookNow = async () => (await call(harness.server, 'GET', `/api/webhooks/${webhookId}`, { token: org.owner.session })).body.webhook;

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        setTimeout(() => res.writeHead(answer).end(), answerAfterMs);
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/keyward`;
    // The first retry comes only after 10 minutes: a failed attempt stays on screen until Retry.
    harness = await startConsole({ env: { KEYWARD_WEBHOOK_ALLOW_PRIVATE: '1', KEYWARD_WEBHOOK_RETRY_SCHEDULE: '600' } });
    org = await createOrg(harness.server, 'Hooked Corp');
    member = await org.addMember('MEMBER');
    await logIn(page(), org.owner.email, org.owner.password);
  }, 180_000);
  afterAll(async () => {
    await harness?.close();
    receiver?.closeAllConnections();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  it('explains webhooks when there are none, and refuses bad input beside its field', async () => {
    await nav().getByRole('link', { name: 'Webhooks' }).click();
    await page().getByRole('heading', { level: 1, name: 'Webhooks' }).waitFor();
    await page().getByText('No webhook endpoints yet').waitFor();
    await page().getByRole('button', { name: 'Add endpoint' }).click();
    const form = dialog(page());
    await form.getByRole('button', { name: 'Add endpoint' }).click();
    await form.locator('.field-error', { hasText: 'Enter the URL' }).waitFor();
    await form.locator('.field-error', { hasText: 'Choose at least one event' }).waitFor();

    // What only the server knows: a URL with credentials in it is refused, the reason beside the URL.
    await form.getByLabel('Endpoint URL').fill(receiverUrl.replace('http://', 'http://user:pw@'));
    await form.getByRole('checkbox', { name: /^All events/ }).check();
    expect(await form.getByRole('checkbox', { name: /^api_key\.revoked/ }).isDisabled()).toBe(true);
    await form.getByRole('button', { name: 'Add endpoint' }).click();
    await form.locator('.field-error', { hasText: 'must not hold a user name or password' }).waitFor();
    expect((await call(harness.server, 'GET', '/api/webhooks', { token: org.owner.session })).body.data).toEqual([]);
  });

  it('adds an endpoint and shows its secret once, closing only once it is stored', async () => {
    const form = dialog(page());
    await form.getByLabel('Endpoint URL').fill(receiverUrl);
    await form.getByLabel(/Description/).fill('Our incident bot');
    await form.getByRole('checkbox', { name: /^All events/ }).uncheck();
    await form.getByRole('checkbox', { name: /^api_key\.revoked/ }).check();
    await form.getByRole('checkbox', { name: /^api_key\.leaked/ }).check();
    await form.getByRole('checkbox', { name: /^webhook\.test/ }).check();
    await screenshot(page(), 'webhook-create', { dialogTop: true });
    await form.getByRole('button', { name: 'Add endpoint' }).click();

    const reveal = dialog(page());
    await reveal.getByRole('heading', { name: 'Save the signing secret' }).waitFor();
    secret = await reveal.getByLabel('Signing secret').inputValue();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/=]+$/);
    expect(await reveal.getByRole('button', { name: 'Done' }).isDisabled()).toBe(true);
    await reveal.getByRole('checkbox', { name: /I have stored this secret/ }).check();
    await reveal.getByRole('button', { name: 'Done' }).click();
    await reveal.waitFor({ state: 'detached' });

    const listed = (await call(harness.server, 'GET', '/api/webhooks', { token: org.owner.session })).body.data;
    expect(listed).toEqual([expect.objectContaining({ url: receiverUrl, events: ['api_key.revoked', 'api_key.leaked', 'webhook.test'], description: 'Our incident bot', enabled: true })]);
    webhookId = listed[0].id;
    // The endpoint's page opens; the list shows it too.
    await page().getByRole('heading', { level: 1, name: new RegExp(receiverUrl.replace(/[.?]/g, '\\$&')) }).waitFor();
    await log().getByText('Nothing delivered yet').waitFor();
    await page().getByRole('link', { name: 'Webhooks', exact: true }).first().click();
    const row = page().getByRole('row', { name: /Our incident bot/ });
    await row.getByText('api_key.revoked, api_key.leaked, webhook.test').waitFor();
    await row.getByText('Enabled').waitFor();
    await screenshot(page(), 'webhooks');
    await row.getByRole('link', { name: receiverUrl }).click();
    await page().getByRole('button', { name: 'Send test event' }).waitFor();
  });

  it('sends a test event, delivered signed with a 2xx attempt in the log', async () => {
    await page().getByRole('button', { name: 'Send test event' }).click();
    const delivery = log().getByRole('row', { name: /webhook\.test/ });
    await delivery.getByText('Succeeded').waitFor();
    await delivery.getByText('HTTP 204').waitFor();
    expect(received).toHaveLength(1);
    const headers = Object.fromEntries(Object.entries(received[0]!.headers).map(([k, v]) => [k, String(v)]));
    const event = new Webhook(secret.slice('whsec_'.length)).verify(received[0]!.body, headers) as { type: string; organizationId: string };
    expect(event).toMatchObject({ type: 'webhook.test', organizationId: org.orgId });
  });

  it('shows a failed attempt when the receiver answers 500, and Retry delivers it', async () => {
    answer = 500;
    await page().getByRole('button', { name: 'Send test event' }).click();
    const failed = log().locator('tbody tr').first();
    await failed.getByText('HTTP 500').waitFor();
    await failed.getByText('Pending').waitFor();
    // The next automatic attempt is 10 minutes away (give or take the schedule's jitter).
    await failed.getByText(/^in (9|10|11) minutes$/).waitFor();
    await screenshot(page(), 'webhook-deliveries', { height: 1000 });
    answer = 200;
    await failed.getByRole('button', { name: /^Retry/ }).click();
    await explained(failed.getByText('Succeeded').waitFor());
    await failed.getByText('HTTP 200').waitFor();
    expect(await failed.locator('.attempts li').count()).toBe(2);
    // The retry carries the same webhook-id.
    expect(received.at(-1)!.headers['webhook-id']).toBe(received.at(-2)!.headers['webhook-id']);
    expect(received.at(-1)!.headers['webhook-id']).not.toBe(received.at(-3)!.headers['webhook-id']);
  });

  it('edits the URL, description and events, refusing a bad URL beside its field', async () => {
    await page().getByRole('button', { name: 'Edit', exact: true }).click();
    const form = dialog(page());
    expect(await form.getByLabel('Endpoint URL').inputValue()).toBe(receiverUrl);
    expect(await form.getByRole('checkbox', { name: /^api_key\.leaked/ }).isChecked()).toBe(true);
    await form.getByLabel('Endpoint URL').fill(`${receiverUrl}#fragment`);
    await form.getByRole('button', { name: 'Save' }).click();
    await form.locator('.field-error', { hasText: 'must not have a fragment' }).waitFor();
    await form.getByLabel('Endpoint URL').fill(`${receiverUrl}?v=2`);
    await form.getByLabel(/Description/).fill('Incident bot, second version');
    await form.getByRole('checkbox', { name: /^api_key\.leaked/ }).uncheck();
    await form.getByRole('checkbox', { name: /^member\.added/ }).check();
    await form.getByRole('button', { name: 'Save' }).click();
    await form.waitFor({ state: 'detached' });
    await page().getByText('Incident bot, second version').first().waitFor();
    expect(await webhookNow()).toMatchObject({ url: `${receiverUrl}?v=2`, description: 'Incident bot, second version', events: ['api_key.revoked', 'member.added', 'webhook.test'] });
  });

  it('disables and enables the endpoint', async () => {
    await page().getByRole('button', { name: 'Disable', exact: true }).click();
    await page().getByText('This endpoint is disabled').waitFor();
    expect(await page().getByRole('button', { name: 'Send test event' }).isDisabled()).toBe(true);
    expect((await webhookNow()).enabled).toBe(false);
    await page().getByRole('button', { name: 'Enable', exact: true }).click();
    await page().getByRole('button', { name: 'Disable', exact: true }).waitFor();
    expect((await webhookNow()).enabled).toBe(true);
    expect(await page().getByText('This endpoint is disabled').count()).toBe(0);
  });

  it('rolls the secret: the new one is shown once, and both sign for a while', async () => {
    await page().getByRole('button', { name: 'Roll secret' }).click();
    const confirm = dialog(page());
    await confirm.getByText(/keeps signing deliveries for 24 hours/).waitFor();
    await confirm.getByRole('button', { name: 'Roll secret' }).click();
    const reveal = dialog(page());
    await reveal.getByRole('heading', { name: 'Your new signing secret' }).waitFor();
    await reveal.getByText(/For 24 hours .* deliveries carry two signatures/).waitFor();
    const rolled = await reveal.getByLabel('Signing secret').inputValue();
    expect(rolled).toMatch(/^whsec_/);
    expect(rolled).not.toBe(secret);
    await reveal.getByRole('checkbox', { name: /I have stored this secret/ }).check();
    await reveal.getByRole('button', { name: 'Done' }).click();
    await reveal.waitFor({ state: 'detached' });

    const before = received.length;
    const rows = log().locator('tbody tr');
    const rowsBefore = await rows.count();
    await page().getByRole('button', { name: 'Send test event' }).click();
    await expect.poll(() => rows.count()).toBe(rowsBefore + 1);
    await explained(rows.first().getByText('Succeeded').waitFor());
    expect(received.length).toBe(before + 1);
    const last = received[before]!;
    const headers = Object.fromEntries(Object.entries(last.headers).map(([k, v]) => [k, String(v)]));
    for (const key of [secret, rolled]) expect(new Webhook(key.slice('whsec_'.length)).verify(last.body, headers)).toMatchObject({ type: 'webhook.test' });
  });

  it('keeps looking at a pending delivery when each answer of the log takes longer than a look', async () => {
    // The receiver answers after 3 s, so the log first shows the delivery pending; every answer of the
    // log then takes longer than the 1 s between looks: each look must wait for it, not cut it off.
    answerAfterMs = 3_000;
    const deliveries = /\/api\/webhooks\/[^/]+\/deliveries(\?|$)/;
    await page().route(deliveries, async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      await route.continue();
    });
    try {
      const rows = log().locator('tbody tr');
      const rowsBefore = await rows.count();
      await page().getByRole('button', { name: 'Send test event' }).click();
      await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(rowsBefore + 1);
      await rows.first().getByText('Pending').waitFor();
      await explained(rows.first().getByText('Succeeded').waitFor({ timeout: 15_000 }));
    } finally {
      answerAfterMs = 0;
      await page().unroute(deliveries);
    }
  });

  it('pages through a long delivery log', async () => {
    for (let i = 0; i < 17; i++) expect((await call(harness.server, 'POST', `/api/webhooks/${webhookId}/test`, { token: org.owner.session })).status).toBe(202);
    const rows = log().locator('tbody tr');
    await log().getByRole('button', { name: 'Refresh' }).click();
    await expect.poll(() => rows.count()).toBe(20);
    await log().getByRole('button', { name: 'Older' }).click();
    await expect.poll(() => rows.count()).toBe(1);
    // The oldest delivery: the first test event.
    await rows.getByText('HTTP 204').waitFor();
    expect(await log().getByRole('button', { name: 'Older' }).isDisabled()).toBe(true);
    await log().getByRole('button', { name: 'Newer' }).click();
    await expect.poll(() => rows.count()).toBe(20);
  });

  it('deletes the endpoint after a confirmation', async () => {
    await page().getByRole('button', { name: 'Delete', exact: true }).click();
    const confirm = dialog(page());
    await confirm.getByText(/cannot be undone/).waitFor();
    await confirm.getByRole('button', { name: 'Delete endpoint' }).click();
    await page().getByRole('heading', { level: 1, name: 'Webhooks' }).waitFor();
    await page().getByText('No webhook endpoints yet').waitFor();
    expect((await call(harness.server, 'GET', `/api/webhooks/${webhookId}`, { token: org.owner.session })).status).toBe(404);
  });

  it('shows a member neither the nav entry nor the page', async () => {
    const context = await harness.browser.newContext({ baseURL: harness.server.url });
    try {
      const memberPage = await context.newPage();
      await logIn(memberPage, member.email, member.password);
      const memberNav = memberPage.getByRole('navigation', { name: 'Settings' });
      await memberNav.getByRole('link', { name: 'API Keys' }).waitFor();
      expect(await memberNav.getByRole('link', { name: 'Webhooks' }).count()).toBe(0);
      await memberPage.goto('/settings/webhooks');
      await memberPage.getByText('You cannot manage webhooks').waitFor();
      expect(await memberPage.getByRole('button', { name: 'Add endpoint' }).count()).toBe(0);
    } finally {
      await context.close();
    }
    // The one 422 is the refused URL of the first test, which Chromium logs as a failed load.
    expect(harness.browserErrors.filter((e) => !/status of 422/.test(e))).toEqual([]);
  });
});
