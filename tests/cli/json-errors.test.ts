import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrg, startServer, type OrgFixture, type TestServer } from '../support/server.js';
import { CliUser, type CliRun } from './support.js';

/** The one JSON document of a failed --json run. */
function jsonError(run: CliRun): { code: string; message: string; status?: number; reasons?: { path: string; message: string }[] } {
  const document = JSON.parse(run.stdout) as { error: any };
  expect(Object.keys(document)).toEqual(['error']);
  expect(typeof document.error.code).toBe('string');
  expect(typeof document.error.message).toBe('string');
  return document.error;
}

/**
 * Errors under --json (CONTRACT.md, "Your own API", and issue 12): a failing command prints
 * `{"error":{"code","message"}}` on standard output, for scripts piping to jq, and the human line on
 * standard error, with the exit codes it has without --json (1 error, 2 usage, 3 not authenticated,
 * 4 not found, 5 forbidden).
 * @see issue 12
 */
describe('keyward with --json: failures are one JSON document on standard output', () => {
  let server: TestServer;
  let org: OrgFixture;
  let owner: CliUser;
  let member: CliUser;

  beforeAll(async () => {
    server = await startServer();
    org = await createOrg(server);
    const person = await org.addMember('MEMBER');
    owner = new CliUser(server.url);
    member = new CliUser(server.url);
    await Promise.all([owner.login(org.owner.email, org.owner.password), member.login(person.email, person.password)]);
  });
  afterAll(async () => server?.close());

  /** Runs a failing command with and without --json: the same exit code, stdout empty without. */
  async function failing(user: CliUser, args: string[], env: Record<string, string> = {}): Promise<{ run: CliRun; plain: CliRun }> {
    const plain = await user.run(args, { env });
    const run = await user.run([...args, '--json'], { env });
    expect(run.code, run.stderr).toBe(plain.code);
    expect(plain.stdout).toBe('');
    expect(run.stderr).toMatch(/^error: /i); // the human line stays on standard error
    expect(plain.stderr).toContain(run.stderr.split('\n')[0]!.slice(0, 40));
    return { run, plain };
  }

  it('not logged in: exit 3, code not_authenticated', async () => {
    const { run } = await failing(new CliUser(server.url), ['api-key', 'list']);
    expect(run.code).toBe(3);
    expect(jsonError(run)).toMatchObject({ code: 'not_authenticated', message: 'You are not logged in.' });
  });

  it('a refused credential: exit 3, the API\'s code and status', async () => {
    const key = await org.createKey(org.owner);
    const { run } = await failing(new CliUser(server.url), ['api-key', 'list'], { KEYWARD_TOKEN: `${key.token.slice(0, -4)}AAAA` });
    expect(run.code).toBe(3);
    expect(jsonError(run)).toMatchObject({ code: 'unauthorized', status: 401 });
  });

  it('not found: exit 4, the API\'s code, message and status', async () => {
    const { run } = await failing(owner, ['api-key', 'get', 'key_doesNotExist0']);
    expect(run.code).toBe(4);
    const error = jsonError(run);
    expect(error).toMatchObject({ code: 'api_key_not_found', status: 404 });
    expect(error.message).not.toContain('HTTP 404');
    expect(run.stderr).toContain('api_key_not_found');
  });

  it('forbidden: exit 5', async () => {
    const { run } = await failing(member, ['api-key', 'create', '--name', 'not mine to make', '--type', 'service']);
    expect(run.code).toBe(5);
    expect(jsonError(run)).toMatchObject({ code: 'insufficient_permissions', status: 403 });
  });

  it('usage errors, from the flags or from the command: exit 2, code usage_error', async () => {
    const bogus = await failing(owner, ['api-key', 'list', '--bogus']);
    expect(bogus.run.code).toBe(2);
    expect(jsonError(bogus.run).code).toBe('usage_error');
    expect(jsonError(bogus.run).message).toContain('--bogus');
    const key = await org.createKey(org.owner, { name: 'stays' });
    const unconfirmed = await failing(owner, ['api-key', 'revoke', key.apiKey.id]);
    expect(unconfirmed.run.code).toBe(2);
    expect(jsonError(unconfirmed.run)).toMatchObject({ code: 'usage_error', message: expect.stringContaining('Not revoking "stays"') });
  });

  it('a 422: exit 1, code validation_failed with the reasons', async () => {
    const key = await org.createKey(org.owner);
    const { run } = await failing(owner, ['api-key', 'revoke', key.apiKey.id, '--yes', '--reason', 'x'.repeat(201)]);
    expect(run.code).toBe(1);
    const error = jsonError(run);
    expect(error).toMatchObject({ code: 'validation_failed', status: 422 });
    expect(error.reasons).toEqual([expect.objectContaining({ path: 'reason' })]);
  });

  it('a server that does not answer: exit 1, code server_unreachable', async () => {
    const key = await org.createKey(org.owner);
    const { run } = await failing(new CliUser(server.url), ['api-key', 'list', '--url', 'http://127.0.0.1:9'], { KEYWARD_TOKEN: key.token });
    expect(run.code).toBe(1);
    expect(jsonError(run).code).toBe('server_unreachable');
  });

  it('a command that succeeds prints its document as before, with no error', async () => {
    const listed = await owner.run(['api-key', 'list', '--json']);
    expect(listed.code).toBe(0);
    expect(Array.isArray(JSON.parse(listed.stdout))).toBe(true);
  });
});
