import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '@keyward/core';
import { call, createOrg, startServer, type OrgFixture, type TestServer } from '../support/server.js';
import { dialects } from '../support/dialects.js';

/**
 * CONTRACT.md "Leak reports from GitHub secret scanning": `POST /api/keys/leaked/github` takes
 * GitHub's partner payload signed with ECDSA P-256 over the raw body, by a key listed in the document
 * `KEYWARD_GITHUB_SECRET_SCANNING_KEYS` names (a file, or a URL: here a local http server, which the
 * setting accepts on loopback only). A live key is revoked (`leaked`, audit `api_key.leaked` by a
 * `leak_report` actor); the answer labels each match in GitHub's feedback format. The published
 * regular expression (docs/secret-scanning.md) is checked against keys the server generated.
 * @see issue 15
 */
const PATH = '/api/keys/leaked/github';
const root = fileURLToPath(new URL('../..', import.meta.url));
const folder = mkdtempSync(join(tmpdir(), 'keyward-gh-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

interface SigningKey {
  readonly identifier: string;
  readonly privateKey: KeyObject;
  readonly pem: string;
}

let keyCounter = 0;
function signingKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const identifier = `${(++keyCounter).toString(16).padStart(4, '0')}${Date.now().toString(16)}`;
  return { identifier, privateKey, pem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

function keyDocument(...keys: SigningKey[]): string {
  return JSON.stringify({ public_keys: keys.map((key, i) => ({ key_identifier: key.identifier, key: key.pem, is_current: i === 0 })) });
}

/** Signs the raw bytes as GitHub does: base64 of a DER ECDSA signature over SHA-256. */
function signatureOf(key: SigningKey, raw: string): string {
  return sign('sha256', Buffer.from(raw), { key: key.privateKey, dsaEncoding: 'der' }).toString('base64');
}

function post(server: TestServer, raw: string, headers: Record<string, string>) {
  return call(server, 'POST', PATH, { rawBody: raw, headers: { 'content-type': 'application/json', ...headers } });
}

function signedPost(server: TestServer, key: SigningKey, raw: string, headers: Record<string, string> = {}) {
  return post(server, raw, { 'github-public-key-identifier': key.identifier, 'github-public-key-signature': signatureOf(key, raw), ...headers });
}

const match = (token: string, extra: Record<string, unknown> = {}) => ({ token, type: 'keyward_api_key', url: 'https://github.com/acme/app/blob/main/.env', source: 'content', ...extra });

/** The regular expression docs/secret-scanning.md publishes for the default prefix. */
function publishedPattern(): RegExp {
  const page = readFileSync(join(root, 'docs/secret-scanning.md'), 'utf8');
  const published = /<!-- pattern -->\s*```text\n\s*(.+)\n\s*```/.exec(page)?.[1];
  if (!published) throw new Error('docs/secret-scanning.md publishes no pattern after <!-- pattern -->');
  return new RegExp(published, 'g');
}

for (const dialect of await dialects()) {
  describe(`GitHub secret scanning reports on ${dialect}`, () => {
    const github = signingKey();
    const retired = signingKey();
    const stranger = signingKey();
    const keysFile = join(folder, `keys-${dialect}.json`);
    writeFileSync(keysFile, keyDocument(github, retired));
    let server: TestServer;
    let org: OrgFixture;
    const headers = () => ({ 'x-organization-id': org.orgId });
    const get = (id: string) => call(server, 'GET', `/api/api-keys/${id}`, { token: org.owner.session, headers: headers() });

    beforeAll(async () => {
      server = await startServer({ dialect, env: { KEYWARD_GITHUB_SECRET_SCANNING_KEYS: keysFile } });
      org = await createOrg(server);
    });
    afterAll(async () => server?.close());

    it('revokes a live key GitHub reports, labels it true_positive and records who reported it and where', async () => {
      const { apiKey, token } = await org.createKey(org.owner, { name: 'pushed to GitHub' });
      const raw = JSON.stringify([match(token, { url: 'https://github.com/acme/app/blob/0123abc/.env', source: 'commit' })]);
      const answer = await signedPost(server, github, raw);
      expect(answer.status, answer.text).toBe(200);
      expect(answer.body).toEqual([{ token_raw: token, token_type: 'keyward_api_key', label: 'true_positive' }]);
      expect((await get(apiKey.id)).body).toMatchObject({ status: 'revoked', revokedReason: 'leaked' });
      expect((await call(server, 'GET', '/api/auth/whoami', { token })).status).toBe(401);
      const audit = await call(server, 'GET', `/api/audit-log?targetId=${apiKey.id}&action=api_key.leaked`, { token: org.owner.session, headers: headers() });
      expect(audit.body.data).toHaveLength(1);
      const [entry] = audit.body.data;
      expect(entry.actor).toEqual({ type: 'leak_report', id: 'github_secret_scanning' });
      expect(entry).toMatchObject({ action: 'api_key.leaked', targetType: 'api_key', targetId: apiKey.id, outcome: 'success', requestId: answer.headers.get('x-request-id') });
      expect(entry.details).toMatchObject({ source: 'commit', url: 'https://github.com/acme/app/blob/0123abc/.env', preview: apiKey.preview, revoked: true });
      expect(JSON.stringify(audit.body)).not.toContain(token.slice(-20));
    });

    it('accepts a report signed by a key GitHub lists as no longer current', async () => {
      const { apiKey, token } = await org.createKey(org.owner);
      const answer = await signedPost(server, retired, JSON.stringify([match(token)]));
      expect(answer.status, answer.text).toBe(200);
      expect(answer.body[0].label).toBe('true_positive');
      expect((await get(apiKey.id)).body.status).toBe('revoked');
    });

    it('labels an already revoked key true_positive without a second audit entry, also when a batch names a token twice', async () => {
      const { apiKey, token } = await org.createKey(org.owner);
      const revoked = await call(server, 'DELETE', `/api/api-keys/${apiKey.id}`, { token: org.owner.session, headers: headers(), body: { reason: 'rotated' } });
      expect(revoked.status).toBe(200);
      const answer = await signedPost(server, github, JSON.stringify([match(token), match(token, { source: 'issue_comment' })]));
      expect(answer.status, answer.text).toBe(200);
      expect(answer.body.map((m: { label: string }) => m.label)).toEqual(['true_positive', 'true_positive']);
      expect((await get(apiKey.id)).body).toMatchObject({ status: 'revoked', revokedReason: 'rotated' });
      const audit = await call(server, 'GET', `/api/audit-log?targetId=${apiKey.id}&action=api_key.leaked`, { token: org.owner.session, headers: headers() });
      expect(audit.body.data).toEqual([]);

      const live = await org.createKey(org.owner);
      const twice = await signedPost(server, github, JSON.stringify([match(live.token), match(live.token)]));
      expect(twice.body.map((m: { label: string }) => m.label)).toEqual(['true_positive', 'true_positive']);
      const entries = await call(server, 'GET', `/api/audit-log?targetId=${live.apiKey.id}&action=api_key.leaked`, { token: org.owner.session, headers: headers() });
      expect(entries.body.data).toHaveLength(1);
    });

    it('labels tokens that are not keys of this deployment false_positive and changes nothing', async () => {
      const { apiKey, token } = await org.createKey(org.owner);
      const mistyped = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
      const otherVendor = 'ghp_0123456789abcdefghijABCDEFGHIJ012345';
      // Well formed, right checksum shape, but no such key: a token of another Keyward deployment, say.
      const foreign = `kw_${'Z'.repeat(16)}_${'q'.repeat(49)}`;
      const answer = await signedPost(server, github, JSON.stringify([match(mistyped), match(otherVendor, { type: 'github_personal_access_token' }), match(foreign), match(token, { url: '' })]));
      expect(answer.status, answer.text).toBe(200);
      expect(answer.body).toEqual([
        { token_raw: mistyped, token_type: 'keyward_api_key', label: 'false_positive' },
        { token_raw: otherVendor, token_type: 'github_personal_access_token', label: 'false_positive' },
        { token_raw: foreign, token_type: 'keyward_api_key', label: 'false_positive' },
        { token_raw: token, token_type: 'keyward_api_key', label: 'true_positive' },
      ]);
      expect((await get(apiKey.id)).body.status).toBe('revoked');
    });

    it('refuses with 401 a tampered body, an unlisted key, a signature by another key, and missing or malformed headers; the key stays live', async () => {
      const { apiKey, token } = await org.createKey(org.owner);
      const raw = JSON.stringify([match(token)]);
      const signature = signatureOf(github, raw);
      // The same JSON re-serialized with other spacing is other bytes: the signature covers the raw body.
      const tampered = [
        { raw: JSON.stringify([match(token, { source: 'npm' })]), id: github.identifier, signature },
        { raw: JSON.stringify([match(token)], null, 1), id: github.identifier, signature },
        { raw, id: stranger.identifier, signature: signatureOf(stranger, raw) },
        { raw, id: github.identifier, signature: signatureOf(stranger, raw) },
        { raw, id: github.identifier, signature: 'not base64!' },
        { raw, id: github.identifier, signature: Buffer.from('a DER signature this is not').toString('base64') },
        { raw, id: github.identifier, signature: '' },
        { raw, id: '', signature },
      ];
      for (const attempt of tampered) {
        const refused = await post(server, attempt.raw, { 'github-public-key-identifier': attempt.id, 'github-public-key-signature': attempt.signature });
        expect(refused.status, JSON.stringify(attempt)).toBe(401);
        expect(refused.body.error).toBe('unauthorized');
      }
      for (const only of [{ 'github-public-key-identifier': github.identifier }, { 'github-public-key-signature': signature }, {}] as Record<string, string>[]) {
        const refused = await post(server, raw, only);
        expect(refused.status).toBe(401);
      }
      expect((await get(apiKey.id)).body.status).toBe('active');
      expect((await call(server, 'GET', '/api/auth/whoami', { token })).status).toBe(200);
    });

    it('answers a correctly signed but malformed report with 422 (400 for broken JSON, 413 past 1 MiB), never a 5xx', async () => {
      const cases: unknown[] = [
        { token: 'kw_x', type: 't' },
        'kw_x',
        null,
        [{ token: 42, type: 'keyward_api_key' }],
        [{ token: ['kw_x'], type: 'keyward_api_key' }],
        [{ type: 'keyward_api_key' }],
        [{ token: 'kw_x' }],
        [{ token: 'kw_x', type: 'keyward_api_key', url: 7 }],
        [null],
        Array.from({ length: 1001 }, () => match('kw_x')),
      ];
      for (const body of cases) {
        const answer = await signedPost(server, github, JSON.stringify(body));
        expect(answer.status, `${JSON.stringify(body).slice(0, 80)}: ${answer.text}`).toBe(422);
        expect(answer.body.error).toBe('validation_failed');
        expect(answer.body.reasons.length).toBeGreaterThan(0);
      }
      const broken = await signedPost(server, github, '[{"token":');
      expect(broken.status).toBe(400);
      expect(broken.body.error).toBe('invalid_request');
      const large = `[${Array.from({ length: 200 }, () => JSON.stringify(match('z'.repeat(4000)))).join(',')}]`;
      const big = `[${Array.from({ length: 300 }, () => JSON.stringify(match('z'.repeat(4000)))).join(',')}]`;
      expect(large.length).toBeGreaterThan(64 * 1024);
      expect(big.length).toBeGreaterThan(1024 * 1024);
      expect((await signedPost(server, github, large)).status).toBe(200);
      const tooBig = await signedPost(server, github, big);
      expect(tooBig.status).toBe(413);
      expect(tooBig.body).toMatchObject({ error: 'payload_too_large', message: expect.stringContaining('1 MiB') });
      // Text in a match that no database column should hold is answered, and kept out of the audit log.
      const { apiKey, token } = await org.createKey(org.owner);
      const odd = await signedPost(server, github, JSON.stringify([match(token, { url: 'https://x.test/\u0000', source: 'content\n' })]));
      expect(odd.status, odd.text).toBe(200);
      const audit = await call(server, 'GET', `/api/audit-log?targetId=${apiKey.id}&action=api_key.leaked`, { token: org.owner.session, headers: headers() });
      expect(audit.body.data[0].details).toMatchObject({ url: null, source: null });
    });

    it('answers a batch of 1,000 matches, live keys among them, in one request', async () => {
      const live = await Promise.all(Array.from({ length: 5 }, () => org.createKey(org.owner)));
      const batch = Array.from({ length: 995 }, (_, i) => match(`kw_${String(i).padStart(16, '0')}_${'a'.repeat(49)}`));
      batch.push(...live.map((key) => match(key.token)));
      const answer = await signedPost(server, github, JSON.stringify(batch));
      expect(answer.status, answer.text).toBe(200);
      expect(answer.body).toHaveLength(1000);
      expect(answer.body.filter((m: { label: string }) => m.label === 'true_positive')).toHaveLength(5);
      for (const key of live) expect((await get(key.apiKey.id)).body.status).toBe('revoked');
    });

    it('publishes a regular expression that finds every kind of key in text, and nothing shorter, longer or glued', async () => {
      const pattern = publishedPattern();
      const personal = (await org.createKey(org.owner)).token;
      const service = (await org.createKey(org.owner, { keyType: 'service' })).token;
      const project = await call(server, 'POST', '/api/projects', { token: org.owner.session, headers: headers(), body: { name: `p-${Date.now()}` } });
      const projectKey = (await org.createKey(org.owner, { keyType: 'project', projectId: project.body.project.id })).token;
      expect(projectKey).not.toMatch(/^kw_[0-9A-Za-z]{16}_/);
      const text = `KEYWARD_KEY=${personal}\n{"key": "${service}"}\ncurl -H 'x-api-key: ${projectKey}' https://api.example\n`;
      expect([...text.matchAll(pattern)].map((m) => m[0])).toEqual([personal, service, projectKey]);
      for (const near of [personal.slice(0, -1), `${personal}a`, `x${personal}`, `${personal}_`, personal.replace('_', '-'), personal.slice(3)]) {
        expect([...`token: ${near} end`.matchAll(pattern)].map((m) => m[0]), near).toEqual([]);
      }
    });
  });
}

describe('GitHub secret scanning, unset', () => {
  it('answers 404 when KEYWARD_GITHUB_SECRET_SCANNING_KEYS is not set, signed or not', async () => {
    const server = await startServer();
    try {
      const key = signingKey();
      const answer = await signedPost(server, key, '[]');
      expect(answer.status).toBe(404);
      expect(answer.body.error).toBe('not_found');
      expect((await post(server, '[]', {})).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('refuses to start with a setting that is neither a file nor an https (or loopback http) URL', async () => {
    for (const setting of [join(folder, 'missing.json'), 'http://keys.example.com/keys.json', 'ftp://127.0.0.1/keys.json', 'https://']) {
      await expect(startServer({ env: { KEYWARD_GITHUB_SECRET_SCANNING_KEYS: setting } }), setting).rejects.toThrow(/KEYWARD_GITHUB_SECRET_SCANNING_KEYS/);
    }
  });
});

/** A local stand-in for https://api.github.com/meta/public_keys/secret_scanning. */
async function keyServer(): Promise<{ url: string; requests: () => number; serve: (answer: { status: number; body: string } | 'hang') => void; close(): Promise<void> }> {
  let answer: { status: number; body: string } | 'hang' = { status: 200, body: '{}' };
  let count = 0;
  const hung: ServerResponse[] = [];
  const server: Server = createServer((req, res) => {
    count++;
    if (answer === 'hang') return void hung.push(res);
    res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/meta/public_keys/secret_scanning`,
    requests: () => count,
    serve: (next) => void (answer = next),
    close: () => {
      for (const res of hung) res.destroy();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('GitHub secret scanning keys read from a URL', () => {
  const offset = { ms: 0 };
  const clock: Clock = { now: () => new Date(Date.now() + offset.ms) };
  const first = signingKey();
  const next = signingKey();
  let keys: Awaited<ReturnType<typeof keyServer>>;
  let server: TestServer;
  let org: OrgFixture;

  beforeAll(async () => {
    keys = await keyServer();
    server = await startServer({ clock, env: { KEYWARD_GITHUB_SECRET_SCANNING_KEYS: keys.url } });
    org = await createOrg(server);
  });
  afterAll(async () => {
    await server?.close();
    await keys?.close();
  });

  it('fetches the keys once, refetches on an unknown identifier at most once per five minutes, and accepts a rotated key', async () => {
    keys.serve({ status: 200, body: keyDocument(first) });
    const a = await org.createKey(org.owner);
    expect((await signedPost(server, first, JSON.stringify([match(a.token)]))).body[0].label).toBe('true_positive');
    const b = await org.createKey(org.owner);
    expect((await signedPost(server, first, JSON.stringify([match(b.token)]))).status).toBe(200);
    expect(keys.requests()).toBe(1);

    // GitHub rotates: the new key is not known yet, and the last read is recent, so no read: 401.
    keys.serve({ status: 200, body: keyDocument(next, first) });
    const c = await org.createKey(org.owner);
    for (let i = 0; i < 5; i++) expect((await signedPost(server, next, JSON.stringify([match(c.token)]))).status).toBe(401);
    expect(keys.requests()).toBe(1);
    // Five minutes on, one read finds it.
    offset.ms += 5 * 60_000;
    const answers = await Promise.all(Array.from({ length: 3 }, () => signedPost(server, next, JSON.stringify([match(c.token)]))));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
    expect(keys.requests()).toBe(2);
    // Unknown identifiers sent by anyone cost at most one read per five minutes.
    const forged = signingKey();
    for (let i = 0; i < 5; i++) expect((await signedPost(server, forged, '[]')).status).toBe(401);
    expect(keys.requests()).toBe(2);
    offset.ms += 5 * 60_000;
    expect((await signedPost(server, forged, '[]')).status).toBe(401);
    expect(keys.requests()).toBe(3);
  });

  it('keeps the keys it has when the URL fails, and reads again after an hour', async () => {
    keys.serve({ status: 500, body: 'oops' });
    offset.ms += 61 * 60_000;
    const d = await org.createKey(org.owner);
    expect((await signedPost(server, next, JSON.stringify([match(d.token)]))).body[0].label).toBe('true_positive');
    expect(keys.requests()).toBe(4);
  });

  it('answers 503 quickly when no key document could ever be read, and does not hang on a URL that never answers', async () => {
    const silent = await keyServer();
    silent.serve('hang');
    const fresh = await startServer({ env: { KEYWARD_GITHUB_SECRET_SCANNING_KEYS: silent.url } });
    try {
      const startedAt = Date.now();
      const answer = await signedPost(fresh, first, '[]');
      expect(answer.status).toBe(503);
      expect(answer.body.error).toBe('service_unavailable');
      expect(answer.headers.get('retry-after')).toBeTruthy();
      expect(Date.now() - startedAt).toBeLessThan(15_000);
      // Within the cooldown the next report does not wait for another read.
      const again = Date.now();
      expect((await signedPost(fresh, first, '[]')).status).toBe(503);
      expect(Date.now() - again).toBeLessThan(1_000);
      expect(silent.requests()).toBe(1);
    } finally {
      await fresh.close();
      await silent.close();
    }
  });
});
