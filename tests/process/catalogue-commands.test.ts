import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, runCli, startServerProcess } from '../support/process.js';

/**
 * CONTRACT.md "The catalogue is the operator's, and says so": `keyward init` writes a starter
 * catalogue for a generic API, `keyward admin catalogue check` validates a file without a store, and
 * `serve` says which catalogue it loaded.
 */
describe('the permission catalogue commands', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-catalogue-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const bare = { KEYWARD_DATABASE_URL: '', KEYWARD_PEPPER: '', KEYWARD_ENCRYPTION_KEY: '', KEYWARD_PERMISSION_CATALOGUE: '' };
  const file = join(dir, 'keyward.catalogue.json');

  it('init writes a starter catalogue and says how to use it; it never overwrites without --force', async () => {
    const first = await runCli(['init'], bare, undefined, dir);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(`KEYWARD_PERMISSION_CATALOGUE=${file}`);
    const written = JSON.parse(readFileSync(file, 'utf8')) as { categories: Array<{ name: string }> };
    expect(written.categories.map((c) => c.name)).toEqual(['orders', 'customers', 'billing', 'reports']);
    const again = await runCli(['init'], bare, undefined, dir);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('--force');
    expect((await runCli(['init', '--force'], bare, undefined, dir)).code).toBe(0);
  });

  it('check accepts the starter file, lists its permissions, and needs no store', async () => {
    const human = await runCli(['admin', 'catalogue', 'check', file], bare, undefined, dir);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain('orders:read, orders:write');
    const json = await runCli(['admin', 'catalogue', 'check', file, '--json'], bare, undefined, dir);
    expect(JSON.parse(json.stdout)).toMatchObject({ valid: true, categories: ['orders', 'customers', 'billing', 'reports'], permissions: expect.arrayContaining(['reports:read', 'organization:manage']) });
  });

  it('check refuses a bad file with exit 2 and every reason', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ categories: [{ name: 'Orders' }, { name: 'widgets', actions: ['write'] }, { name: 'widgets' }] }));
    const run = await runCli(['admin', 'catalogue', 'check', bad, '--json'], bare, undefined, dir);
    expect(run.code).toBe(2);
    const { valid, problems } = JSON.parse(run.stdout) as { valid: boolean; problems: string[] };
    expect(valid).toBe(false);
    expect(problems.some((p) => p.startsWith('categories[0].name'))).toBe(true);
    expect(problems.some((p) => p.startsWith('categories[1].actions'))).toBe(true);
    expect(problems.some((p) => p.includes('appears twice'))).toBe(true);
    const missing = await runCli(['admin', 'catalogue', 'check', join(dir, 'nope.json')], bare, undefined, dir);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no such file');
  });

  it('serve refuses a catalogue that lacks permissions active keys name, unless told to accept it', async () => {
    const database = `sqlite:${join(dir, 'removal.db')}`;
    const env = { ...bare, KEYWARD_DATABASE_URL: database };
    const first = startServerProcess(env, await freePort());
    let keyId: string;
    try {
      await first.ready();
      const org = await runCli(['admin', 'create-org', '--name', 'Acme', '--owner-email', 'ada@acme.test', '--json'], env, undefined, dir);
      const adminKey = (JSON.parse(org.stdout) as { adminKey: { token: string } }).adminKey.token;
      const created = await fetch(`${first.url}/api/api-keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'reads traces', keyType: 'service', permissionMode: 'restricted', permissions: ['traces:read'] }),
      });
      expect(created.status).toBe(201);
      keyId = ((await created.json()) as { apiKey: { id: string } }).apiKey.id;
    } finally {
      await first.stop();
    }
    const refused = startServerProcess({ ...env, KEYWARD_PERMISSION_CATALOGUE: file }, await freePort());
    const code = await new Promise<number | null>((resolve) => refused.child.on('exit', resolve));
    expect(code).toBe(2);
    expect(refused.output()).toContain(`${keyId} (reads traces`);
    expect(refused.output()).toContain('traces:read');
    expect(refused.output()).toContain('KEYWARD_CATALOGUE_ALLOW_REMOVED=1');
    const accepted = startServerProcess({ ...env, KEYWARD_PERMISSION_CATALOGUE: file, KEYWARD_CATALOGUE_ALLOW_REMOVED: '1' }, await freePort());
    try {
      await accepted.ready();
    } finally {
      await accepted.stop();
    }
  }, 120_000);

  it('serve says which catalogue it loaded and how many categories', async () => {
    const server = startServerProcess({ ...bare, KEYWARD_DATABASE_URL: `sqlite:${join(dir, 'keyward.db')}`, KEYWARD_PERMISSION_CATALOGUE: file }, await freePort());
    try {
      await server.ready();
      await new Promise((r) => setTimeout(r, 200));
      expect(server.output()).toContain(`permissions: ${file}, 4 categories`);
      const catalogue = (await (await fetch(`${server.url}/api/catalogue`)).json()) as { permissions: string[] };
      expect(catalogue.permissions).toContain('orders:write');
    } finally {
      await server.stop();
    }
  });
});
