import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createOrg, startServer, type OrgFixture, type Person, type TestServer } from '../support/server.js';
import { CliUser } from './support.js';

/**
 * The CLI side of issue 12's key items: `api-key revoke --reason`, the warning of a roll that ends an
 * earlier roll's overlap, and `api-key list` searching by id, last four or a pasted token, filtering
 * by owner and sorting.
 * @see issue 12
 */
describe('keyward api-key: revoke reasons, the second roll, finding keys', () => {
  let server: TestServer;
  let org: OrgFixture;
  let owner: CliUser;
  let memberPerson: Person;
  const get = (id: string) => call(server, 'GET', `/api/api-keys/${id}`, { token: org.owner.session });

  beforeAll(async () => {
    server = await startServer();
    org = await createOrg(server);
    memberPerson = await org.addMember('MEMBER');
    owner = new CliUser(server.url);
    await owner.login(org.owner.email, org.owner.password);
  });
  afterAll(async () => server?.close());

  it('revoke --reason keeps the reason on the key; get shows it; without --reason the reason is "revoked"', async () => {
    const { apiKey } = await org.createKey(org.owner, { name: 'old laptop' });
    const run = await owner.run(['api-key', 'revoke', apiKey.id, '--reason', 'laptop stolen', '--yes']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`Revoked "old laptop" (${apiKey.id})`);
    expect(run.stdout).toContain('Reason: laptop stolen.');
    expect((await get(apiKey.id)).body).toMatchObject({ status: 'revoked', revokedReason: 'laptop stolen' });
    const shown = await owner.run(['api-key', 'get', apiKey.id]);
    expect(shown.stdout).toMatch(/Reason\s+laptop stolen/);

    const plain = await org.createKey(org.owner);
    expect(await owner.json(['api-key', 'revoke', plain.apiKey.id, '--yes'])).toEqual({ success: true });
    expect((await get(plain.apiKey.id)).body.revokedReason).toBe('revoked');
  });

  it('roll warns on standard error when it ends an earlier roll\'s overlap; --json prints the API\'s answer with the warning', async () => {
    const { apiKey } = await org.createKey(org.owner, { name: 'rolled twice' });
    const first = await owner.json(['api-key', 'roll', apiKey.id, '--overlap', '24h']);
    expect(first.warnings).toEqual([]);
    const second = await owner.run(['api-key', 'roll', apiKey.id, '--overlap', '1h']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain('Warning:');
    expect(second.stderr).toContain('(previous_overlap_ended)');
    expect(second.stderr).toContain(first.apiKey.rollOverlapEndsAt);
    expect(second.stdout).toContain('Rolled "rolled twice"');
    const third = await owner.run(['api-key', 'roll', apiKey.id, '--json']);
    expect(third.code).toBe(0);
    const answer = JSON.parse(third.stdout);
    expect(Object.keys(answer).sort()).toEqual(['apiKey', 'token', 'warnings']);
    expect(answer.warnings).toMatchObject([{ code: 'previous_overlap_ended', previousSecretExpiresAt: expect.any(String) }]);
    expect(third.stderr).toContain('previous_overlap_ended');
    const quiet = await owner.run(['api-key', 'roll', apiKey.id, '--quiet']);
    expect(quiet.stdout).toMatch(/^kw_\S+\n$/);
    expect(quiet.stderr).toBe(''); // the third roll kept no overlap: nothing ended
  });

  it('list --search takes an id, the last four or a whole pasted token; --owner and --sort pass through', async () => {
    const key = await org.createKey(org.owner, { name: 'zz searchable' });
    const membersKey = await org.createKey(memberPerson, { name: 'aa members' });
    const byToken = await owner.json<any[]>(['api-key', 'list', '--status', 'all', '--search', key.token]);
    expect(byToken.map((k) => k.id)).toEqual([key.apiKey.id]);
    const byId = await owner.json<any[]>(['api-key', 'list', '--search', key.apiKey.id]);
    expect(byId.map((k) => k.id)).toEqual([key.apiKey.id]);
    const byLastFour = await owner.json<any[]>(['api-key', 'list', '--search', key.token.slice(-4)]);
    expect(byLastFour.map((k) => k.id)).toContain(key.apiKey.id);
    for (const run of owner.runs) expect(run.stdout + run.stderr).not.toContain(key.token.slice(20));

    const mine = await owner.json<any[]>(['api-key', 'list', '--owner', memberPerson.userId]);
    expect(mine.map((k) => k.id)).toEqual([membersKey.apiKey.id]);
    const byName = await owner.json<any[]>(['api-key', 'list', '--sort', 'name']);
    const names = byName.map((k) => k.name.toLowerCase());
    expect(names).toEqual([...names].sort());
    const byNameDescending = await owner.json<any[]>(['api-key', 'list', '--sort=-name']);
    expect(byNameDescending.map((k) => k.id)).toEqual(byName.map((k) => k.id).reverse());
    const badSort = await owner.run(['api-key', 'list', '--sort', 'size']);
    expect(badSort.code).toBe(2);
  });
});
