import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier } from '@keyward/core';
import { call, createOrg, startServer, type OrgFixture, type Person, type TestServer } from '../support/server.js';
import { CliUser } from './support.js';

/** Issue 14: rate limits and credits through `keyward api-key`, the built CLI against a started server. */
describe('keyward api-key rate limits and credits', () => {
  let server: TestServer;
  let org: OrgFixture;
  let owner: CliUser;
  let member: CliUser;
  let memberPerson: Person;
  let verifier: string;
  const verify = async (key: string) => (await call(server, 'POST', '/api/keys/verify', { token: verifier, body: { key } })).body;
  const apiKey = async (id: string) => (await call(server, 'GET', `/api/api-keys/${id}`, { token: org.adminKey })).body;

  beforeAll(async () => {
    server = await startServer();
    org = await createOrg(server);
    memberPerson = await org.addMember('MEMBER');
    verifier = (await createVerifier(server.composed.services.deps, { name: 'rate limits', orgId: null })).token;
    owner = new CliUser(server.url);
    member = new CliUser(server.url);
    await Promise.all([owner.login(org.owner.email, org.owner.password), member.login(memberPerson.email, memberPerson.password)]);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('create sets rate limits and credits from the flags, and says so', async () => {
    const created = await owner.json([
      'api-key', 'create', '--name', 'partner', '--type', 'service', '--expires', '30d',
      '--rate-limit', 'requests=100/1m', '--rate-limit', 'burst=10/1s', '--rate-limit', 'daily=1000/1d',
      '--credits', '1000', '--refill', '1000/month',
    ]);
    expect(created.apiKey.rateLimits).toEqual([
      { name: 'requests', limit: 100, windowSeconds: 60 },
      { name: 'burst', limit: 10, windowSeconds: 1 },
      { name: 'daily', limit: 1000, windowSeconds: 86_400 },
    ]);
    expect(created.apiKey.credits).toEqual({ remaining: 1000, refill: { amount: 1000, interval: 'month' } });
    expect(await apiKey(created.apiKey.id)).toMatchObject({ rateLimits: created.apiKey.rateLimits, credits: created.apiKey.credits });

    const text = await owner.run(['api-key', 'create', '--name', 'plain windows', '--rate-limit', 'per5=7/300', '--credits', '50', '--expires', '1d']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('Rate limits per5: 7 per 5 minutes');
    expect(text.stdout).toContain('Credits 50 left (no refill)');
  });

  it('get shows each limit in words with its current window, and the credits left with their refill', async () => {
    const created = await owner.json(['api-key', 'create', '--name', 'metered', '--rate-limit', 'requests=100/1m', '--rate-limit', 'daily=5000/1d', '--credits', '1000', '--refill', '1000/month']);
    for (let i = 0; i < 3; i++) expect((await verify(created.token)).code).toBe('VALID');
    await server.composed.services.usage.flush();

    const got = await owner.json(['api-key', 'get', created.apiKey.id]);
    expect(got).toEqual(await apiKey(created.apiKey.id));
    const use = got.rateLimitUse.find((u: { name: string }) => u.name === 'requests');
    expect(use).toMatchObject({ limit: 100, used: 3 });

    const text = await owner.run(['api-key', 'get', created.apiKey.id]);
    expect(text.code, text.stderr).toBe(0);
    const resetAt = `${new Date(use.resetAt).toISOString().slice(11, 19)}Z`;
    expect(text.stdout).toMatch(new RegExp(`^Rate limits +requests: 100 per minute \\(3 used, resets ${resetAt}\\)$`, 'm'));
    expect(text.stdout).toMatch(/^ +daily: 5,000 per day \(3 used, resets 00:00:00Z\)$/m);
    expect(text.stdout).toMatch(/^Credits +997 left, refills to 1,000 on the 1st of each month \(UTC\)$/m);

    const plain = await org.createKey(org.owner, { name: 'no limits' });
    const plainText = await owner.run(['api-key', 'get', plain.apiKey.id]);
    expect(plainText.stdout).toMatch(/^Rate limits +none$/m);
    expect(plainText.stdout).toMatch(/^Credits +unlimited$/m);
  });

  it('list --json carries the limits and credits; the table gets a CREDITS column when a key counts credits', async () => {
    const listed = await owner.json<any[]>(['api-key', 'list', '--search', 'metered']);
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ rateLimits: [{ name: 'requests' }, { name: 'daily' }], credits: { refill: { amount: 1000, interval: 'month' } } });

    await org.createKey(org.owner, { name: 'metered too' });
    const table = await owner.run(['api-key', 'list', '--search', 'metered']);
    const [header, ...rows] = table.stdout.trimEnd().split('\n');
    expect(header).toMatch(/\bCREATED BY\s+CREDITS$/);
    expect(rows.find((r) => r.startsWith('metered too'))).toMatch(/\sunlimited$/);
    expect(rows.find((r) => /^metered\s+key_/.test(r))).toMatch(/\s997$/);

    const without = await owner.run(['api-key', 'list', '--search', 'no limits']);
    expect(without.stdout.split('\n')[0]).toMatch(/CREATED BY$/);
  });

  it('credits set, add and remove change the remaining credits atomically and print what is left', async () => {
    const created = await owner.json(['api-key', 'create', '--name', 'topped up', '--credits', '10']);
    const id = created.apiKey.id;
    const set = await owner.run(['api-key', 'credits', id, 'set', '50']);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toBe(`✓ Set the credits of ${id} to 50: 50 left.\n`);
    const added = await owner.run(['api-key', 'credits', id, 'add', '2500']);
    expect(added.stdout).toBe(`✓ Added 2,500 credits to ${id}: 2,550 left.\n`);
    expect(await owner.json(['api-key', 'credits', id, 'remove', '550'])).toEqual({ remaining: 2000 });

    const tooMany = await owner.run(['api-key', 'credits', id, 'remove', '2001']);
    expect(tooMany.code).toBe(1);
    expect(tooMany.stdout).toBe('');
    expect(tooMany.stderr).toMatch(/^Error: .+ \(validation_failed, HTTP 422\)$/m);
    expect(tooMany.stderr).toMatch(/^ {2}amount: .*2,?001.*$/m);
    expect(tooMany.stderr).toContain('keyward api-key get ID');
    expect((await apiKey(id)).credits.remaining).toBe(2000);

    const unlimited = await org.createKey(org.owner, { name: 'unlimited' });
    const noCredits = await owner.run(['api-key', 'credits', unlimited.apiKey.id, 'add', '5']);
    expect(noCredits.code).toBe(1);
    expect(noCredits.stderr).toContain(`keyward api-key edit ID --credits N`);
    expect((await apiKey(unlimited.apiKey.id)).credits).toBeNull();

    const audit = await call(server, 'GET', `/api/audit-log?action=api_key.credits_changed&targetId=${id}`, { token: org.adminKey });
    expect(audit.body.data).toHaveLength(3);

    for (const bad of [['add', '-5'], ['add', 'lots'], ['set', '1000000001']]) {
      const refused = await owner.run(['api-key', 'credits', id, ...bad]);
      expect(refused.code, bad.join(' ')).toBe(2);
      expect(refused.stderr).toContain(`credits ${bad[0]} takes a whole number from 0 to 1,000,000,000`);
    }
    const unknownOperation = await owner.run(['api-key', 'credits', id, 'double', '5']);
    expect(unknownOperation.code).toBe(2);
    expect(unknownOperation.stderr).toContain('set, add, remove');
    expect((await apiKey(id)).credits.remaining).toBe(2000);
  });

  it('edit replaces the limits, keeps the refill when only --credits is given, and removes both', async () => {
    const created = await owner.json(['api-key', 'create', '--name', 'to edit', '--rate-limit', 'requests=100/1m', '--credits', '5', '--refill', '20/day']);
    const id = created.apiKey.id;
    const replaced = await owner.json(['api-key', 'edit', id, '--rate-limit', 'hourly=60/1h', '--credits', '500']);
    expect(replaced.rateLimits).toEqual([{ name: 'hourly', limit: 60, windowSeconds: 3600 }]);
    expect(replaced.credits).toEqual({ remaining: 500, refill: { amount: 20, interval: 'day' } });
    expect((await owner.json(['api-key', 'edit', id, '--credits', '7', '--no-refill'])).credits).toEqual({ remaining: 7, refill: null });

    const text = await owner.run(['api-key', 'edit', id, '--no-rate-limits', '--unlimited-credits']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^Rate limits +none$/m);
    expect(text.stdout).toMatch(/^Credits +unlimited$/m);
    expect(await apiKey(id)).toMatchObject({ rateLimits: [], credits: null });

    const refillAlone = await owner.run(['api-key', 'edit', id, '--refill', '10/day']);
    expect(refillAlone.code).toBe(2);
    expect(refillAlone.stderr).toContain('--refill needs --credits');
  });

  it('refuses a malformed --rate-limit with a usage error naming the flag and the form, before any request', async () => {
    // Not logged in and no server at this address: a usage error proves nothing was sent.
    const nobody = new CliUser('http://127.0.0.1:9');
    for (const bad of ['requests=100', 'requests=100/1w', 'requests=100/2d', 'Requests=100/1m', 'requests=0/1m', 'requests=ten/1m']) {
      const run = await nobody.run(['api-key', 'create', '--name', 'bad', '--rate-limit', bad]);
      expect(run.code, bad).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain('--rate-limit takes NAME=LIMIT/WINDOW');
      expect(run.stderr).toContain(`"${bad}"`);
      const edit = await nobody.run(['api-key', 'edit', 'key_any', '--rate-limit', bad]);
      expect(edit.code, bad).toBe(2);
      expect(edit.stderr).toContain('--rate-limit takes NAME=LIMIT/WINDOW');
    }
    const refill = await nobody.run(['api-key', 'create', '--name', 'bad', '--refill', '100/month']);
    expect(refill.code).toBe(2);
    expect(refill.stderr).toContain('--refill needs --credits');
    const json = await nobody.run(['api-key', 'create', '--name', 'bad', '--rate-limit', 'x=1/1y', '--json']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout).error).toMatchObject({ code: 'usage_error', message: expect.stringContaining('--rate-limit takes') });

    const twice = await owner.run(['api-key', 'create', '--name', 'twice', '--rate-limit', 'a=1/1s', '--rate-limit', 'a=2/1m']);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain('validation_failed, HTTP 422');
    expect(twice.stderr).toContain('named twice');
  });

  it('a MEMBER may set rate limits on their key, but gets the 403 for credits (exit 5)', async () => {
    const own = await member.json(['api-key', 'create', '--name', 'member limited', '--rate-limit', 'requests=5/1s']);
    expect(own.apiKey.rateLimits).toEqual([{ name: 'requests', limit: 5, windowSeconds: 1 }]);

    const create = await member.run(['api-key', 'create', '--name', 'member credits', '--credits', '100']);
    expect(create.code).toBe(5);
    expect(create.stderr).toMatch(/^Error: .+ \(\w+, HTTP 403\)$/m);
    const edit = await member.run(['api-key', 'edit', own.apiKey.id, '--credits', '100']);
    expect(edit.code).toBe(5);
    expect(edit.stderr).toContain('HTTP 403');
    const change = await member.run(['api-key', 'credits', own.apiKey.id, 'add', '100']);
    expect(change.code).toBe(5);
    expect(change.stderr).toContain('HTTP 403');
    expect((await apiKey(own.apiKey.id)).credits).toBeNull();
  });
});
