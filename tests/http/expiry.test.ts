import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createOrg, startServer, type OrgFixture, type TestServer } from '../support/server.js';

/** A clock the test moves by hand: expiry is checked against server time, never by sleeping. */
function manualClock(start: Date) {
  let now = start.getTime();
  return { now: () => new Date(now), set: (date: Date) => void (now = date.getTime()) };
}

describe('expiry at the boundary (R23)', () => {
  const clock = manualClock(new Date('2030-01-01T00:00:00.000Z'));
  let server: TestServer;
  let org: OrgFixture;

  beforeAll(async () => {
    server = await startServer({ clock });
    org = await createOrg(server);
  });
  afterAll(async () => server?.close());

  it('accepts a key one second before expiresAt and refuses it at expiresAt, with the same 401 as any bad key', async () => {
    const expiresAt = new Date('2030-01-01T01:00:00.000Z');
    const { token, apiKey } = await org.createKey(org.adminKey, { keyType: 'service', expiresAt: expiresAt.toISOString() });
    clock.set(new Date(expiresAt.getTime() - 1000));
    expect((await call(server, 'GET', '/api/auth/whoami', { token })).status).toBe(200);
    clock.set(expiresAt);
    const refused = await call(server, 'GET', '/api/auth/whoami', { token });
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('unauthorized');
    const listed = await call(server, 'GET', `/api/api-keys/${apiKey.id}`, { token: org.adminKey });
    expect(listed.body.status).toBe('expired');
    const expired = await call(server, 'GET', '/api/api-keys?status=expired', { token: org.adminKey });
    expect(expired.body.data.map((k: any) => k.id)).toContain(apiKey.id);
    const active = await call(server, 'GET', '/api/api-keys', { token: org.adminKey });
    expect(active.body.data.map((k: any) => k.id)).not.toContain(apiKey.id);
  });

  it('takes a date alone as midnight UTC, on create and edit, and refuses a date that does not exist', async () => {
    clock.set(new Date('2030-01-01T00:00:00.000Z'));
    const created = await call(server, 'POST', '/api/api-keys', { token: org.adminKey, body: { name: 'dated', keyType: 'service', expiresAt: '2030-03-01' } });
    expect(created.status, created.text).toBe(201);
    expect(created.body.apiKey.expiresAt).toBe('2030-03-01T00:00:00.000Z');
    const edited = await call(server, 'PATCH', `/api/api-keys/${created.body.apiKey.id}`, { token: org.adminKey, body: { expiresAt: '2030-04-01' } });
    expect(edited.status, edited.text).toBe(200);
    expect(edited.body.expiresAt).toBe('2030-04-01T00:00:00.000Z');
    for (const bad of ['2030-02-30', '2030-13-01', '2030-1-1']) {
      const refused = await call(server, 'POST', '/api/api-keys', { token: org.adminKey, body: { name: 'bad date', keyType: 'service', expiresAt: bad } });
      expect(refused.status, bad).toBe(422);
      expect(refused.body.reasons[0].path).toBe('expiresAt');
    }
  });

  it('revives an expired key when its expiry is moved into the future', async () => {
    clock.set(new Date('2030-02-01T00:00:00.000Z'));
    const { token, apiKey } = await org.createKey(org.adminKey, { keyType: 'service', expiresAt: '2030-02-01T00:10:00.000Z' });
    clock.set(new Date('2030-02-01T00:20:00.000Z'));
    expect((await call(server, 'GET', '/api/auth/whoami', { token })).status).toBe(401);
    const edited = await call(server, 'PATCH', `/api/api-keys/${apiKey.id}`, { token: org.adminKey, body: { expiresAt: '2030-03-01T00:00:00.000Z' } });
    expect(edited.status).toBe(200);
    expect(edited.body.status).toBe('active');
    expect((await call(server, 'GET', '/api/auth/whoami', { token })).status).toBe(200);
  });

  it('ends a roll overlap exactly at oldKeyExpiresAt', async () => {
    clock.set(new Date('2030-04-01T00:00:00.000Z'));
    const { token: oldToken, apiKey } = await org.createKey(org.adminKey, { keyType: 'service' });
    const rolled = await call(server, 'POST', `/api/api-keys/${apiKey.id}/roll`, { token: org.adminKey, body: { oldKeyExpiresAt: '2030-04-01T00:05:00.000Z' } });
    expect(rolled.body.apiKey.rollOverlapEndsAt).toBe('2030-04-01T00:05:00.000Z');
    clock.set(new Date('2030-04-01T00:04:59.000Z'));
    expect((await call(server, 'GET', '/api/auth/whoami', { token: oldToken })).status).toBe(200);
    clock.set(new Date('2030-04-01T00:05:00.000Z'));
    expect((await call(server, 'GET', '/api/auth/whoami', { token: oldToken })).status).toBe(401);
    expect((await call(server, 'GET', '/api/auth/whoami', { token: rolled.body.token })).status).toBe(200);
  });
});
