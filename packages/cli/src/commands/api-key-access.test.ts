import { describe, expect, it } from 'vitest';
import type { ApiKey } from '@keyward/wire';
import { createBody, narrowings, updateBody } from './api-key-access.js';

const key: ApiKey = {
  id: 'key_a1',
  name: 'deploy',
  description: null,
  keyType: 'personal',
  status: 'active',
  preview: 'kw_…abcd',
  ownerUserId: 'usr_1',
  createdByUserId: 'usr_1',
  createdByKeyId: null,
  projectId: null,
  bindings: [{ role: 'MEMBER', scopeType: 'ORGANIZATION', scopeId: 'org_1' }],
  permissionMode: 'all',
  permissions: [],
  scopes: [],
  allowedCidrs: [],
  expiresAt: null,
  lastUsedAt: '2026-05-01T12:00:00.000Z',
  createdAt: '2026-04-01T12:00:00.000Z',
  updatedAt: '2026-04-01T12:00:00.000Z',
  revokedAt: null,
  revokedReason: null,
  rollOverlapEndsAt: null,
  policyViolations: [],
  rateLimits: [],
  rateLimitUse: [],
  credits: null,
};

describe('api-key flags', () => {
  it('turns --project into projectIds for a service key, a binding for a personal key, projectId for a project key', () => {
    expect(createBody({ name: 'ci', type: 'service', project: ['proj_1', 'proj_2'] }, 'MEMBER')).toMatchObject({ keyType: 'service', projectIds: ['proj_1', 'proj_2'] });
    expect(createBody({ name: 'me', project: ['proj_1'] }, 'VIEWER').bindings).toEqual([{ role: 'VIEWER', scopeType: 'PROJECT', scopeId: 'proj_1' }]);
    expect(createBody({ name: 'p', type: 'project', project: ['proj_1'] }, 'MEMBER')).toMatchObject({ keyType: 'project', projectId: 'proj_1' });
    expect(() => createBody({ name: 'p', type: 'project' }, 'MEMBER')).toThrow(/exactly one project/);
  });

  it('pairs --role, --scope-type and --scope-id in order, and refuses unpaired ones', () => {
    const body = createBody({ name: 'k', role: ['viewer', 'ADMIN'], scopeType: ['team', 'PROJECT'], scopeId: ['team_1', 'proj_1'] }, 'MEMBER');
    expect(body.bindings).toEqual([
      { role: 'VIEWER', scopeType: 'TEAM', scopeId: 'team_1' },
      { role: 'ADMIN', scopeType: 'PROJECT', scopeId: 'proj_1' },
    ]);
    expect(() => createBody({ name: 'k', role: ['ADMIN'], scopeType: ['TEAM'] }, 'MEMBER')).toThrow(/in pairs/);
    expect(() => createBody({ name: 'k', role: ['BOSS'], project: ['proj_1'] }, 'MEMBER')).toThrow(/--role takes/);
  });

  it('restricts permissions and reads scopes as ACTION:RESOURCE', () => {
    const body = createBody({ name: 'k', permission: ['traces:read'], scope: ['read:reports/*', '*:*'] }, 'MEMBER');
    expect(body).toMatchObject({ permissionMode: 'restricted', permissions: ['traces:read'], scopes: [{ action: 'read', resource: 'reports/*' }, { action: '*', resource: '*' }] });
    expect(() => createBody({ name: 'k', scope: ['reports/*'] }, 'MEMBER')).toThrow(/ACTION:RESOURCE/);
  });

  it('finds what an edit takes away, and ignores what it adds', () => {
    expect(narrowings(key, updateBody({ permission: ['traces:read'] }, key, 'MEMBER'))).toEqual(['restricts the key to traces:read']);
    expect(narrowings(key, updateBody({ allowIp: ['10.0.0.0/8'] }, key, 'MEMBER'))).toEqual(['limits it to addresses 10.0.0.0/8']);
    expect(narrowings(key, updateBody({ expires: '2027-01-01' }, key, 'MEMBER'))).toEqual(['makes it expire sooner, at 2027-01-01T00:00:00.000Z']);
    expect(narrowings(key, updateBody({ project: ['proj_1'] }, key, 'MEMBER'))[0]).toMatch(/^removes access: MEMBER ORGANIZATION org_1/);
    const restricted = { ...key, permissionMode: 'restricted' as const, permissions: ['traces:read'], allowedCidrs: ['10.0.0.0/8'], expiresAt: '2026-06-01T00:00:00.000Z' };
    expect(narrowings(restricted, updateBody({ name: 'renamed', allPermissions: true, anyIp: true, expiry: false }, restricted, 'MEMBER'))).toEqual([]);
  });
});
