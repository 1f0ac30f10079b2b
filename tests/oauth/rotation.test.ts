import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import FakeTimers from '@sinonjs/fake-timers';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createOrg, dialects, movableClock, startOAuthServer, tokenFor, type OrgFixture, type TestServer } from './support.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const headerOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString());
const TEN_MINUTES = 10 * 60_000;

/**
 * Signing-key rotation (R37): under continuous issuance, a jose remote key set (ten-minute cache,
 * thirty-second cooldown) verifies every token through planned rotations, because the next key is
 * published ten minutes ahead and the previous one stays until its last token expired. Time moves by
 * a fake `Date` shared by the server and jose, never by waiting.
 */
describe('planned rotation under continuous issuance', () => {
  it('verifies every token with a jose remote key set across two rotations: zero failures', async () => {
    const clock = FakeTimers.install({ toFake: ['Date'], now: Date.now(), shouldAdvanceTime: true });
    const server = await startOAuthServer();
    try {
      const org = await createOrg(server);
      const jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
      const failures: unknown[] = [];
      const kids = new Set<string>();
      let verified = 0;
      let running = true;
      let paused = false;
      let inFlight = 0;
      const worker = async () => {
        while (running) {
          if (paused) {
            await sleep(2);
            continue;
          }
          inFlight++;
          try {
            const token = await tokenFor(server, org.adminKey);
            const { protectedHeader } = await jwtVerify(token, jwks, { issuer: server.url, audience: server.url, typ: 'at+jwt', algorithms: ['ES256'] });
            kids.add(protectedHeader.kid!);
            verified++;
          } catch (err) {
            failures.push(err);
          } finally {
            inFlight--;
          }
        }
      };
      const until = async (count: number) => {
        const target = verified + count;
        while (verified < target && failures.length === 0) await sleep(2);
      };
      // Time jumps while no token is between issuance and verification (a jump would expire it).
      const jump = async (ms: number) => {
        paused = true;
        while (inFlight > 0) await sleep(1);
        clock.tick(ms);
        paused = false;
      };
      const rotate = () => call(server, 'POST', '/api/signing-keys/rotate', { token: org.owner.session, body: {} });
      const workers = Array.from({ length: 4 }, worker);

      await until(20);
      const early = await rotate();
      expect(early.status).toBe(409);
      expect(early.body.message).toMatch(/ten minutes after publication/);
      const firstKid = [...kids][0]!;

      await jump(TEN_MINUTES + 1000);
      await until(20);
      const beforeRotation = await tokenFor(server, org.adminKey);
      expect((await rotate()).status).toBe(200);
      await until(40);
      // A token signed just before the rotation still verifies offline and online.
      await jwtVerify(beforeRotation, jwks, { issuer: server.url, audience: server.url, typ: 'at+jwt' });
      expect((await call(server, 'GET', '/api/auth/whoami', { token: beforeRotation })).status).toBe(200);

      await jump(TEN_MINUTES + 1000);
      await until(20);
      expect((await rotate()).status).toBe(200);
      await until(40);

      // The first key retires once its last token expired (lifetime + 60 s after deactivation).
      await jump(TEN_MINUTES + 1000);
      await until(20);
      running = false;
      await Promise.all(workers);
      expect(failures).toEqual([]);
      expect(kids.size).toBe(3);
      const published = (await call(server, 'GET', '/.well-known/jwks.json')).body.keys.map((k: any) => k.kid);
      expect(published).not.toContain(firstKid);
      expect(published).toHaveLength(3); // previous, current, next
      const listed = await call(server, 'GET', '/api/signing-keys', { token: org.owner.session });
      expect(listed.body.data.map((k: any) => k.state).sort()).toEqual(['current', 'next', 'previous', 'retired']);
      const audit = await call(server, 'GET', '/api/audit-log?action=signing_key.rotated', { token: org.owner.session });
      expect(audit.body.data).toHaveLength(2);
    } finally {
      await server.close();
      clock.uninstall();
    }
  });
});

for (const dialect of await dialects()) {
  describe(`emergency rotation, algorithms and lifetimes on ${dialect}`, () => {
    const clock = movableClock();
    let server: TestServer;
    let org: OrgFixture;

    beforeAll(async () => {
      server = await startOAuthServer({ clock, dialect });
      org = await createOrg(server);
    });
    afterAll(async () => server?.close());

    it('removes a compromised key from the JWKS at once and refuses its unexpired tokens on every online path', async () => {
      const token = await tokenFor(server, org.adminKey);
      const compromised = headerOf(token).kid;
      const verifier = (await import('@keyward/core')).createVerifier;
      const { token: verifierToken } = await verifier(server.composed.services.deps, { name: 'gw', orgId: null });
      const rotated = await call(server, 'POST', '/api/signing-keys/rotate', { token: org.owner.session, body: { emergency: true } });
      expect(rotated.status).toBe(200);
      expect(rotated.body.data.find((k: any) => k.id === compromised)).toMatchObject({ state: 'retired', compromisedAt: expect.any(String) });
      expect((await call(server, 'GET', '/.well-known/jwks.json')).body.keys.map((k: any) => k.kid)).not.toContain(compromised);
      expect((await call(server, 'GET', '/api/auth/whoami', { token })).status).toBe(401);
      expect((await call(server, 'POST', '/api/keys/verify', { token: verifierToken, body: { key: token } })).body).toMatchObject({ valid: false, code: 'REVOKED' });
      const introspection = await call(server, 'POST', '/oauth/introspect', {
        token: verifierToken,
        rawBody: `token=${token}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(introspection.body).toEqual({ active: false });
      // A verifier that fetches the key set now cannot verify it either.
      const jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
      await expect(jwtVerify(token, jwks, { issuer: server.url, audience: server.url })).rejects.toBeInstanceOf(joseErrors.JWKSNoMatchingKey);
      const fresh = await tokenFor(server, org.adminKey);
      expect(headerOf(fresh).kid).not.toBe(compromised);
      expect((await call(server, 'GET', '/api/auth/whoami', { token: fresh })).status).toBe(200);
      const audit = await call(server, 'GET', '/api/audit-log?action=signing_key.emergency_rotated', { token: org.owner.session });
      expect(audit.body.data[0]).toMatchObject({ targetType: 'signing_key', details: { emergency: true, compromised } });
    });

    it('lets only owners and admins see and rotate signing keys', async () => {
      const member = await org.addMember('MEMBER');
      expect((await call(server, 'GET', '/api/signing-keys', { token: member.session })).status).toBe(403);
      expect((await call(server, 'POST', '/api/signing-keys/rotate', { token: member.session, body: { emergency: true } })).status).toBe(403);
      expect((await call(server, 'PATCH', '/api/organization', { token: member.session, body: { accessTokenTtlSeconds: 300 } })).status).toBe(403);
      expect((await call(server, 'GET', '/api/signing-keys')).status).toBe(401);
      const admin = await org.addMember('ADMIN');
      expect((await call(server, 'GET', '/api/signing-keys', { token: admin.session })).status).toBe(200);
      expect((await call(server, 'GET', '/api/signing-keys', { token: org.adminKey })).status).toBe(200);
    });

    it('changes the lifetime of new tokens, within 60 to 3600 seconds', async () => {
      const patched = await call(server, 'PATCH', '/api/organization', { token: org.owner.session, body: { accessTokenTtlSeconds: 300 } });
      expect(patched.status).toBe(200);
      expect(patched.body.organization).toMatchObject({ accessTokenTtlSeconds: 300, signingAlgorithm: 'ES256' });
      const answer = await call(server, 'POST', '/oauth/token', {
        rawBody: 'grant_type=client_credentials',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${clientId(org.adminKey)}:${org.adminKey}`).toString('base64')}` },
      });
      expect(answer.body.expires_in).toBe(300);
      for (const ttl of [59, 3601, 1.5]) {
        expect((await call(server, 'PATCH', '/api/organization', { token: org.owner.session, body: { accessTokenTtlSeconds: ttl } })).status).toBe(422);
      }
      expect((await call(server, 'PATCH', '/api/organization', { token: org.owner.session, body: { signingAlgorithm: 'HS256' } })).status).toBe(422);
      await call(server, 'PATCH', '/api/organization', { token: org.owner.session, body: { accessTokenTtlSeconds: 600 } });
    });

    for (const [algorithm, check] of [
      ['RS256', (jwk: any) => expect(Buffer.from(jwk.n, 'base64url').length * 8).toBe(3072)],
      ['EdDSA', (jwk: any) => expect(jwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519' })],
    ] as const) {
      it(`signs with ${algorithm} from the next generated key, verified by jose through the JWKS`, async () => {
        const patched = await call(server, 'PATCH', '/api/organization', { token: org.owner.session, body: { signingAlgorithm: algorithm } });
        expect(patched.body.organization.signingAlgorithm).toBe(algorithm);
        const keys = (await call(server, 'GET', '/api/signing-keys', { token: org.owner.session })).body.data;
        const next = keys.find((k: any) => k.state === 'next');
        expect(next.algorithm).toBe(algorithm);
        expect(headerOf(await tokenFor(server, org.adminKey)).alg).not.toBe(algorithm); // the current key still signs
        clock.advance(601);
        expect((await call(server, 'POST', '/api/signing-keys/rotate', { token: org.owner.session, body: {} })).status).toBe(200);
        const token = await tokenFor(server, org.adminKey);
        expect(headerOf(token)).toMatchObject({ alg: algorithm, kid: next.id, typ: 'at+jwt' });
        const jwks = (await call(server, 'GET', '/.well-known/jwks.json')).body.keys;
        const jwk = jwks.find((k: any) => k.kid === next.id);
        expect(jwk).toMatchObject({ alg: algorithm, use: 'sig' });
        check(jwk);
        const remote = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
        await jwtVerify(token, remote, { issuer: server.url, audience: server.url, typ: 'at+jwt', algorithms: [algorithm], currentDate: clock.now() });
        expect((await call(server, 'GET', '/api/auth/whoami', { token })).status).toBe(200);
      });
    }
  });
}

const clientId = (token: string) => `key_${/([0-9A-Za-z]{16})_[0-9A-Za-z]{49}$/.exec(token)![1]}`;

const main = resolve(new URL('../..', import.meta.url).pathname, 'packages/server/dist/main.js');

function runOperator(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [main, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

describe.skipIf(!existsSync(main))('keyward admin rotate-signing-key (built server: npm run build)', () => {
  it('rotates in an emergency, refuses a planned rotation that is too early, and knows unknown organizations', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyward-rotate-'));
    const env = {
      KEYWARD_DATABASE_URL: `sqlite:${join(dir, 'keyward.db')}`,
      KEYWARD_PEPPER: randomBytes(32).toString('hex'),
      KEYWARD_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      KEYWARD_LOG_LEVEL: 'warn',
    };
    try {
      expect((await runOperator(['migrate'], env)).code).toBe(0);
      const created = await runOperator(['admin', 'create-org', '--name', 'Rotor', '--owner-email', 'rotor@example.test', '--json'], env);
      const { organizationId } = JSON.parse(created.stdout);
      const planned = await runOperator(['admin', 'rotate-signing-key', '--organization', organizationId, '--json'], env);
      expect(planned.code).toBe(1);
      expect(planned.stderr).toMatch(/ten minutes after publication/);
      const emergency = await runOperator(['admin', 'rotate-signing-key', '--organization', organizationId, '--emergency', '--json'], env);
      expect(emergency.code).toBe(0);
      const { data } = JSON.parse(emergency.stdout);
      expect(data.map((k: any) => k.state).sort()).toEqual(['current', 'next', 'retired']);
      expect(data.find((k: any) => k.state === 'retired').compromisedAt).not.toBeNull();
      expect(emergency.stdout).not.toMatch(/"d"|ciphertext/);
      const unknown = await runOperator(['admin', 'rotate-signing-key', '--organization', 'org_doesnotexist', '--json'], env);
      expect(unknown.code).toBe(4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
