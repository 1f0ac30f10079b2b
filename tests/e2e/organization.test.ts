import { createOrganization } from '@keyward/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createOrg, type OrgFixture } from '../support/server.js';
import { browserMissing, dialog, logIn, screenshot, startConsole, type ConsoleHarness } from './support.js';

/**
 * Around the keys: members and invitations, teams, projects and their project keys, the audit log,
 * signing keys, the one-time bootstrap step and the organization switcher.
 */
describe.skipIf(browserMissing)('the console around the keys', () => {
  let harness: ConsoleHarness;
  let org: OrgFixture;
  const invitee = 'grace@initech.test';

  beforeAll(async () => {
    harness = await startConsole();
    org = await createOrg(harness.server, 'Initrode');
    await logIn(harness.page, org.owner.email, org.owner.password);
  }, 180_000);
  afterAll(async () => harness?.close());

  const page = () => harness.page;
  const nav = () => page().getByRole('navigation', { name: 'Settings' });

  it('invites a member with a link shown once, which they open to join; then changes their role', async () => {
    await nav().getByRole('link', { name: 'Members' }).click();
    await page().getByRole('heading', { level: 1, name: 'Members' }).waitFor();
    await page().getByRole('button', { name: 'Invite member' }).click();
    const invite = dialog(page());
    await invite.getByLabel('Email').fill(invitee);
    await invite.getByRole('radio', { name: /^Member/ }).check();
    await invite.getByRole('button', { name: 'Create invitation' }).click();
    await invite.getByText('This link is shown only once').waitFor();
    const link = await dialog(page()).getByLabel('Invitation link').inputValue();
    expect(link).toMatch(/\/accept-invitation#token=kwi_/);
    await screenshot(page(), 'invite-member');
    await dialog(page()).getByRole('button', { name: 'Done' }).click();
    await page().getByRole('cell', { name: invitee, exact: true }).waitFor();
    expect(await page().getByRole('row', { name: new RegExp(invitee) }).getByText('Invited').count()).toBe(1);

    // The invitee opens the link in their own browser.
    const theirs = await harness.browser.newContext({ baseURL: harness.server.url });
    const tab = await theirs.newPage();
    await tab.goto(new URL(link).pathname + new URL(link).hash);
    await tab.getByRole('heading', { name: 'Join your organization' }).waitFor();
    expect(tab.url()).not.toContain('kwi_');
    await tab.getByLabel('Your name').fill('Grace');
    await tab.getByLabel('Password').fill('grace-password');
    await tab.getByRole('button', { name: 'Accept and log in' }).click();
    await tab.getByRole('heading', { level: 1, name: 'API Keys' }).waitFor();
    expect(await tab.locator('.user-role').textContent()).toMatch(/^Member/);
    await theirs.close();

    await page().reload();
    const row = page().getByRole('row', { name: new RegExp(invitee) });
    await row.getByText('Active').waitFor();
    await row.getByRole('combobox', { name: `Role of ${invitee}` }).selectOption('VIEWER');
    await page().getByText(`${invitee} is now Viewer.`).waitFor();
    const members = await call(harness.server, 'GET', '/api/members', { token: org.owner.session });
    expect(members.body.data.find((m: any) => m.email === invitee).role).toBe('VIEWER');
    await screenshot(page(), 'members');
  });

  it('removes a member after a confirmation naming them', async () => {
    const extra = await org.addMember('VIEWER');
    await page().reload();
    await page().getByRole('button', { name: `Remove ${extra.email}` }).click();
    const confirm = page().getByRole('alertdialog');
    await confirm.getByText('their personal API keys are disabled').waitFor();
    await confirm.getByRole('button', { name: 'Remove member' }).click();
    await page().getByText(`Removed ${extra.email}.`).waitFor();
    await expect.poll(() => page().getByRole('cell', { name: extra.email, exact: true }).count()).toBe(0);
  });

  it('creates and renames a team, and gives a person a role on it', async () => {
    await nav().getByRole('link', { name: 'Teams' }).click();
    await page().getByText('No teams yet').waitFor();
    await page().getByRole('button', { name: 'Create team' }).first().click();
    await dialog(page()).getByLabel('Team name').fill('Platform');
    await dialog(page()).getByRole('button', { name: 'Create team' }).click();
    await page().getByRole('cell', { name: 'Platform', exact: true }).waitFor();
    await page().getByRole('button', { name: 'Rename Platform' }).click();
    await dialog(page()).getByLabel('Team name').fill('Platform team');
    await dialog(page()).getByRole('button', { name: 'Rename' }).click();
    await page().getByRole('cell', { name: 'Platform team', exact: true }).waitFor();
    await page().getByRole('button', { name: 'People' }).click();
    const people = dialog(page());
    await people.getByLabel('Member to add').selectOption({ label: invitee });
    await people.getByRole('combobox', { name: 'Role', exact: true }).selectOption('ADMIN');
    await people.getByRole('button', { name: 'Add' }).click();
    await people.getByRole('button', { name: `Remove ${invitee} from Platform team` }).waitFor();
    await page().keyboard.press('Escape');
    await screenshot(page(), 'teams');
  });

  it('creates a project in the team, renames it, creates a project key on its page and archives it', async () => {
    await nav().getByRole('link', { name: 'Projects' }).click();
    await page().getByRole('button', { name: 'Create project' }).first().click();
    const create = dialog(page());
    await create.getByLabel('Project name').fill('Checkout');
    await create.getByLabel('Team').selectOption({ label: 'Platform team' });
    await create.getByRole('button', { name: 'Create project' }).click();
    await page().getByRole('heading', { level: 1, name: /Checkout/ }).waitFor();
    await page().getByRole('button', { name: 'Rename' }).click();
    await dialog(page()).getByLabel('Project name').fill('Checkout API');
    await dialog(page()).getByRole('button', { name: 'Rename' }).click();
    await page().getByRole('heading', { level: 1, name: /Checkout API/ }).waitFor();

    await page().getByRole('button', { name: 'Create project key' }).click();
    const form = dialog(page());
    await form.getByRole('heading', { name: 'Create a project key for Checkout API' }).waitFor();
    expect(await form.getByRole('radio', { name: /^Service/ }).count()).toBe(0);
    await form.getByLabel('Name', { exact: true }).fill('Legacy checkout key');
    await form.getByRole('button', { name: 'Create key' }).click();
    const reveal = dialog(page());
    const token = await reveal.getByLabel('Secret key').inputValue();
    expect(token).toMatch(/^kw_[0-9A-Za-z]+$/);
    const me = await fetch(`${harness.server.url}/api/auth/whoami`, { headers: { authorization: `Bearer ${token}` } });
    expect(((await me.json()) as any).keyType).toBe('project');
    await reveal.getByRole('checkbox', { name: /I have copied the secret/ }).check();
    await reveal.getByRole('button', { name: 'Done' }).click();
    await page().getByRole('link', { name: 'Legacy checkout key' }).waitFor();
    await screenshot(page(), 'project');

    await page().getByRole('button', { name: 'Archive' }).click();
    await page().getByRole('alertdialog').getByRole('button', { name: 'Archive project' }).click();
    await page().getByRole('heading', { level: 1, name: /Checkout API/ }).getByText('Archived').waitFor();
    expect(await page().getByRole('button', { name: 'Create project key' }).isDisabled()).toBe(true);
    await page().getByRole('button', { name: 'Restore' }).click();
    await page().getByRole('button', { name: 'Archive' }).waitFor();
  });

  it('shows the audit log and filters it by action, actor and key', async () => {
    await nav().getByRole('link', { name: 'Audit log' }).click();
    await page().getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
    await page().getByRole('cell', { name: 'member.invited' }).first().waitFor();
    await screenshot(page(), 'audit-log');
    await page().getByLabel('Action').fill('team.created');
    await expect.poll(() => page().locator('tbody tr').count()).toBe(1);
    expect(await page().getByRole('cell', { name: 'team.created' }).count()).toBe(1);
    await page().getByRole('button', { name: 'Clear filters' }).click();
    await page().getByLabel('Actor').selectOption({ label: invitee });
    await expect.poll(async () => [...new Set(await page().locator('tbody tr td:nth-child(3)').allTextContents())]).toEqual(['member.joined']);
    await page().getByRole('button', { name: 'Clear filters' }).click();
    const keyOption = await page().getByLabel('Key').locator('option', { hasText: 'Legacy checkout key' }).getAttribute('value');
    await page().getByLabel('Key').selectOption(keyOption!);
    await expect.poll(async () => page().locator('tbody tr td:nth-child(3)').allTextContents()).toEqual(['api_key.created']);
  });

  it('shows the signing keys with their dates, or says plainly that this server has none to show', async () => {
    await nav().getByRole('link', { name: 'Signing keys' }).click();
    await page().getByRole('heading', { level: 1, name: 'Signing keys' }).waitFor();
    const unavailable = page().getByText('Signing keys are not available on this server');
    const table = page().getByRole('table', { name: 'Signing keys' });
    await unavailable.or(table).first().waitFor();
    if (await table.isVisible()) {
      await table.getByText('Current').first().waitFor();
      await table.getByText('Next').first().waitFor();
      const before = (await call(harness.server, 'GET', '/api/signing-keys', { token: org.owner.session })).body.data;
      const current = before.find((k: any) => k.state === 'current');
      await page().getByRole('button', { name: 'Rotate signing keys' }).click();
      const rotate = dialog(page());
      // A planned rotation waits until the next key has been published for ten minutes.
      await rotate.getByText(/A planned rotation is possible from/).waitFor();
      expect(await rotate.getByRole('button', { name: 'Rotate', exact: true }).isDisabled()).toBe(true);
      await rotate.getByRole('checkbox', { name: /Emergency rotation/ }).check();
      await rotate.getByText('Tokens signed by the current key stop working immediately').waitFor();
      await rotate.getByRole('button', { name: 'Rotate now (emergency)' }).click();
      await page().getByText('Emergency rotation done: the old key no longer verifies.').waitFor();
      await table.getByRole('row', { name: new RegExp(current.id) }).getByText('Compromised').waitFor();
      // Token settings: the lifetime of access tokens.
      await page().getByLabel('Token lifetime (seconds)').fill('300');
      await page().getByRole('button', { name: 'Save', exact: true }).click();
      await page().getByText('Saved the access token settings.').waitFor();
      const organization = await call(harness.server, 'GET', '/api/organization', { token: org.owner.session });
      expect(organization.body.organization.accessTokenTtlSeconds).toBe(300);
    } else {
      const answer = await call(harness.server, 'GET', '/api/signing-keys', { token: org.owner.session });
      expect(answer.status).toBe(404);
    }
    await screenshot(page(), 'signing-keys');
  });

  it('shows an organization that is not bootstrapped the bootstrap step in place of its keys, and switches organizations', async () => {
    const { deps } = harness.server.composed.services;
    await createOrganization(deps, { name: 'Umbrella', ownerEmail: org.owner.email, ownerPassword: org.owner.password, bootstrap: false, createAdminKey: false });
    await page().reload();
    const switcher = page().getByLabel('Organization');
    await switcher.selectOption({ label: 'Umbrella · Owner' });
    await page().getByRole('heading', { name: 'Set up API keys for Umbrella' }).waitFor();
    expect(await page().getByRole('button', { name: 'Create API key' }).count()).toBe(0);
    await screenshot(page(), 'bootstrap');
    await page().getByRole('button', { name: 'Set up API keys' }).click();
    await page().getByText('No API keys yet').waitFor();
    await switcher.selectOption({ label: 'Initrode · Owner' });
    await page().getByRole('link', { name: 'Admin key (created with the organization)' }).waitFor();
  });

  it('raised no script error and no Content-Security-Policy violation in the browser', () => {
    expect(harness.browserErrors).toEqual([]);
  });
});
