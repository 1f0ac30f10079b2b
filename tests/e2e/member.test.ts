import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createOrg, type OrgFixture, type Person } from '../support/server.js';
import { browserMissing, dialog, logIn, screenshot, startConsole, type ConsoleHarness } from './support.js';

/**
 * What a MEMBER sees and may do (CONTRACT.md): their own keys and the organization's service keys,
 * never another person's personal keys; personal keys only, never beyond their own role; no audit
 * log, organization usage or signing keys.
 */
describe.skipIf(browserMissing)('the console for a member', () => {
  let harness: ConsoleHarness;
  let org: OrgFixture;
  let member: Person;

  beforeAll(async () => {
    harness = await startConsole();
    org = await createOrg(harness.server, 'Globex');
    member = await org.addMember('MEMBER');
    await org.createKey(org.owner, { name: 'Owner laptop' });
    await org.createKey(org.owner, { name: 'Nightly export', keyType: 'service' });
    await org.createKey(member, { name: 'My notebook' });
    await logIn(harness.page, member.email, member.password);
  }, 180_000);
  afterAll(async () => harness?.close());

  const page = () => harness.page;
  const rows = () => page().locator('tbody tr');

  it('lists only their own keys and the service keys, without the creator column', async () => {
    await page().getByRole('link', { name: 'My notebook' }).waitFor();
    const names = await rows().locator('.row-link').allTextContents();
    // The organization's admin service key (made with it) is a service key too.
    expect(names.sort()).toEqual(['Admin key (created with the organization)', 'My notebook', 'Nightly export']);
    // Who created a key, and whose personal key it is, are for owners and admins.
    expect(await rows().locator('.cell-date .cell-sub').count()).toBe(0);
    expect(await rows().locator('.cell-type .cell-sub').count()).toBe(0);
    // The API agrees: the owner's personal key is not even reachable by id.
    const ownerKeys = await call(harness.server, 'GET', '/api/api-keys?q=Owner', { token: org.owner.session });
    const hidden = await call(harness.server, 'GET', `/api/api-keys/${ownerKeys.body.data[0].id}`, { token: member.session });
    expect(hidden.status).toBe(404);
  });

  it('may not edit, roll or revoke a service key, only view it', async () => {
    await page().getByRole('button', { name: 'Actions for Nightly export' }).click();
    for (const action of ['Edit', 'Roll', 'Revoke']) {
      expect(await page().getByRole('menuitem', { name: new RegExp(`^${action}`) }).getAttribute('aria-disabled')).toBe('true');
    }
    await page().keyboard.press('Escape');
    expect(await page().getByRole('menu').count()).toBe(0);
    await page().getByRole('link', { name: 'Nightly export' }).click();
    await page().getByRole('heading', { level: 1, name: /Nightly export/ }).waitFor();
    expect(await page().getByRole('button', { name: 'Revoke', exact: true }).count()).toBe(0);
    await page().getByRole('link', { name: 'API Keys' }).first().click();
  });

  it('has no audit log, organization usage or signing keys, and cannot manage members', async () => {
    const nav = page().getByRole('navigation', { name: 'Settings' });
    await nav.getByRole('link', { name: 'API Keys' }).waitFor();
    for (const hidden of ['Usage', 'Audit log', 'Signing keys']) expect(await nav.getByRole('link', { name: hidden }).count()).toBe(0);
    await page().goto('/settings/audit-log');
    await page().getByText('Only owners and admins can see this page').waitFor();
    await nav.getByRole('link', { name: 'Members' }).click();
    await page().getByRole('cell', { name: new RegExp(member.email) }).waitFor();
    expect(await page().getByRole('button', { name: 'Invite member' }).count()).toBe(0);
    expect(await page().getByRole('combobox', { name: /Role of/ }).count()).toBe(0);
    await nav.getByRole('link', { name: 'API Keys' }).click();
  });

  it('cannot choose a service key, nor pick rights above their own role; what they may pick works', async () => {
    await page().getByRole('button', { name: 'Create API key' }).first().click();
    const form = dialog(page());
    const service = form.getByRole('radio', { name: /^Service/ });
    expect(await service.isDisabled()).toBe(true);
    await form.getByText('Only owners and admins create service keys (your role: Member).').waitFor();
    await form.getByLabel('Name', { exact: true }).fill('Trace uploader');
    await form.getByRole('radio', { name: /^Restricted/ }).check();
    for (const beyond of ['Secrets: write', 'Team: write', 'Project: write']) {
      const box = form.getByRole('checkbox', { name: new RegExp(`^${beyond}`) });
      expect(await box.isDisabled()).toBe(true);
      expect(await box.getAttribute('aria-label')).toContain('Not in your role (Member)');
    }
    expect(await form.locator('.check-row', { hasText: 'Organization administration' }).locator('input').isDisabled()).toBe(true);
    await form.getByRole('checkbox', { name: 'Traces: write' }).check();
    await form.getByRole('checkbox', { name: 'Secrets: read' }).check();
    await screenshot(page(), 'create-key-member');
    await form.getByRole('button', { name: 'Create key' }).click();
    const reveal = dialog(page());
    await reveal.getByRole('heading', { name: 'Save your API key' }).waitFor();
    const token = await reveal.getByLabel('Secret key').inputValue();
    const me = await fetch(`${harness.server.url}/api/auth/whoami`, { headers: { authorization: `Bearer ${token}` } });
    expect(((await me.json()) as any).permissions).toEqual(['traces:read', 'traces:write', 'secrets:read']);
    await reveal.getByRole('checkbox', { name: /I have copied the secret/ }).check();
    await reveal.getByRole('button', { name: 'Done' }).click();
    await page().getByRole('link', { name: 'Trace uploader' }).waitFor();
  });

  it('shows the server’s refusal when asking for more than their rights anyway', async () => {
    // The server is the authority: a request beyond the ceiling is refused with the missing permissions.
    const refused = await call(harness.server, 'POST', '/api/api-keys', {
      token: member.session,
      body: { name: 'Too much', permissionMode: 'restricted', permissions: ['secrets:write'] },
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe('api_key_scope_violation');
  });
});
