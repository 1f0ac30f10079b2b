import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrg, startServer, type OrgFixture, type TestServer } from '../support/server.js';
import { CliUser } from './support.js';

/**
 * `keyward org policy get|set` and the policy's refusals as the CLI shows them (issue 15): the rules
 * in words, one JSON document with --json, a change of only the rules named, 403 (exit 5) for an
 * admin, and a policy_violation on create, edit and roll with each reason on its own line.
 * @see issue 15
 */
describe('keyward org policy, the built CLI against a started server', () => {
  let server: TestServer;
  let org: OrgFixture;
  let owner: CliUser;
  let admin: CliUser;

  beforeAll(async () => {
    server = await startServer();
    org = await createOrg(server);
    owner = new CliUser(server.url);
    await owner.login(org.owner.email, org.owner.password);
    const person = await org.addMember('ADMIN');
    admin = new CliUser(server.url);
    await admin.login(person.email, person.password);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('shows the default policy in words and as JSON', async () => {
    const shown = await owner.run(['org', 'policy', 'get']);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('Maximum key lifetime');
    expect(shown.stdout).toMatch(/Personal keys\s+allowed/);
    expect(await admin.json(['org', 'policy', 'get'])).toEqual({
      maxKeyLifetimeDays: null,
      defaultKeyLifetimeDays: null,
      requireExpiry: false,
      requireAllowedCidrsForServiceKeys: false,
      personalKeysAllowed: true,
    });
  });

  it('changes only the rules named, refuses an admin with exit 5, and a bad value or no rule as usage errors', async () => {
    const set = await owner.json(['org', 'policy', 'set', '--max-lifetime', '90', '--default-lifetime', '30', '--require-expiry']);
    expect(set).toEqual({ maxKeyLifetimeDays: 90, defaultKeyLifetimeDays: 30, requireExpiry: true, requireAllowedCidrsForServiceKeys: false, personalKeysAllowed: true });
    const more = await owner.run(['orgs', 'policy', 'set', '--require-service-cidrs']);
    expect(more.code, more.stderr).toBe(0);
    expect(more.stdout).toContain('Key policy updated');
    expect(more.stdout).toMatch(/Service keys need IP allowlist\s+yes/);
    expect(more.stdout).toMatch(/Maximum key lifetime\s+90 days/);

    const refused = await admin.run(['org', 'policy', 'set', '--no-personal-keys']);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toContain('insufficient_permissions');
    for (const args of [['--max-lifetime', '0'], ['--max-lifetime', '1.5'], ['--default-lifetime', 'soon'], []]) {
      const bad = await owner.run(['org', 'policy', 'set', ...args]);
      expect(bad.code, args.join(' ')).toBe(2);
    }
    const tooLong = await owner.run(['org', 'policy', 'set', '--default-lifetime', '120', '--json']);
    expect(tooLong.code).toBe(1);
    expect(JSON.parse(tooLong.stdout).error).toMatchObject({ code: 'validation_failed', reasons: [{ path: 'defaultKeyLifetimeDays' }] });
    expect((await owner.json(['org', 'policy', 'get'])).personalKeysAllowed).toBe(true);
  });

  it('shows the reasons of a policy_violation on create, edit and roll, and the default expiry as a warning', async () => {
    await owner.json(['org', 'policy', 'set', '--max-lifetime', '90', '--default-lifetime', '30', '--require-expiry', '--require-service-cidrs']);
    const tooLong = await owner.run(['api-key', 'create', '--name', 'too long', '--expires', '365d']);
    expect(tooLong.code).toBe(1);
    expect(tooLong.stderr).toContain('policy_violation');
    expect(tooLong.stderr).toMatch(/expiresAt: Keys in this organization may live at most 90 days/);
    expect(tooLong.stderr).toContain('keyward org policy get');

    const service = await owner.run(['api-key', 'create', '--name', 'ci', '--type', 'service', '--json']);
    expect(service.code).toBe(1);
    expect(JSON.parse(service.stdout).error).toMatchObject({ code: 'policy_violation', status: 422, reasons: [{ path: 'allowedCidrs' }] });

    const defaulted = await owner.run(['api-key', 'create', '--name', 'default expiry']);
    expect(defaulted.code, defaulted.stderr).toBe(0);
    expect(defaulted.stderr).toContain('expiry_set_by_policy');

    await owner.json(['org', 'policy', 'set', '--max-lifetime', 'none', '--default-lifetime', 'none', '--no-require-expiry']);
    const created = await owner.json(['api-key', 'create', '--name', 'forever']);
    await owner.json(['org', 'policy', 'set', '--max-lifetime', '30']);
    const shown = await owner.run(['api-key', 'get', created.apiKey.id]);
    expect(shown.stdout).toMatch(/Policy\s+breaks maxKeyLifetimeDays/);
    const rolled = await owner.run(['api-key', 'roll', created.apiKey.id]);
    expect(rolled.code).toBe(1);
    expect(rolled.stderr).toMatch(/expiresAt: Keys in this organization must expire within 30 days/);
    const edited = await owner.run(['api-key', 'edit', created.apiKey.id, '--expires', '60d']);
    expect(edited.code).toBe(1);
    expect(edited.stderr).toContain('policy_violation');
    expect((await owner.json(['api-key', 'edit', created.apiKey.id, '--expires', '20d'])).policyViolations).toEqual([]);
    await owner.json(['org', 'policy', 'set', '--max-lifetime', 'none', '--no-require-service-cidrs']);
  });
});
