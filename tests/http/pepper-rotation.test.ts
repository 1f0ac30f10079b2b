import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openTestStore } from '@keyward/store/testing';
import { call, createOrg, startServer } from '../support/server.js';

describe('pepper rotation (R5)', () => {
  it('keeps keys made under the old pepper valid once a new pepper is listed first, and makes new keys under the new one', async () => {
    const store = await openTestStore('sqlite');
    const oldPepper = randomBytes(32).toString('hex');
    const newPepper = randomBytes(32).toString('hex');
    const encryptionKey = randomBytes(32).toString('hex');
    try {
      const before = await startServer({ store, env: { KEYWARD_PEPPER: oldPepper, KEYWARD_ENCRYPTION_KEY: encryptionKey } });
      const org = await createOrg(before);
      const oldKey = await org.createKey(org.owner);
      const project = (await call(before, 'POST', '/api/projects', { token: org.owner.session, body: { name: 'legacy' } })).body.project.id;
      const legacy = await org.createKey(org.owner, { keyType: 'project', projectId: project });
      await before.close();

      const after = await startServer({ store, env: { KEYWARD_PEPPER: `v2:${newPepper},v1:${oldPepper}`, KEYWARD_ENCRYPTION_KEY: encryptionKey } });
      try {
        expect((await call(after, 'GET', '/api/auth/whoami', { token: oldKey.token })).status).toBe(200);
        expect((await call(after, 'GET', '/api/auth/whoami', { headers: { 'x-auth-token': legacy.token } })).status).toBe(200);
        const fresh = await call(after, 'POST', '/api/api-keys', { token: org.adminKey, body: { name: 'new', keyType: 'service' } });
        expect(fresh.status).toBe(201);
        const stored = await store.keys.findById(org.orgId as never, fresh.body.apiKey.id);
        expect(stored!.secret.pepperVersion).toBe(2);
        expect((await call(after, 'GET', '/api/auth/whoami', { token: fresh.body.token })).status).toBe(200);
      } finally {
        await after.close();
      }

      const dropped = await startServer({ store, env: { KEYWARD_PEPPER: `v2:${newPepper}`, KEYWARD_ENCRYPTION_KEY: encryptionKey } });
      try {
        expect((await call(dropped, 'GET', '/api/auth/whoami', { token: oldKey.token })).status).toBe(401);
      } finally {
        await dropped.close();
      }
    } finally {
      await store.close();
    }
  });
});
