import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { allPermissions, defaultCatalogue, type Permission } from './catalogue.js';
import { decide, effectivePermissions, type Subject } from './decide.js';
import { rolePermissions, type Binding } from './roles.js';
import { grantFromBinding, type ScopeContext } from './rights.js';

const catalogue = defaultCatalogue;
const orgId = 'org_test';
const projects = [
  { projectId: 'proj_a', teamId: 'team_1' },
  { projectId: 'proj_b', teamId: 'team_1' },
  { projectId: 'proj_c', teamId: null },
] as const;
const permissions = allPermissions(catalogue);

const bindingArb: fc.Arbitrary<Binding> = fc.oneof(
  fc.record({ role: fc.constantFrom('ADMIN', 'MEMBER', 'VIEWER' as const), scopeType: fc.constant('ORGANIZATION' as const), scopeId: fc.constant(orgId) }),
  fc.record({ role: fc.constantFrom('ADMIN', 'MEMBER', 'VIEWER' as const), scopeType: fc.constant('TEAM' as const), scopeId: fc.constant('team_1') }),
  fc.record({ role: fc.constantFrom('ADMIN', 'MEMBER', 'VIEWER' as const), scopeType: fc.constant('PROJECT' as const), scopeId: fc.constantFrom('proj_a', 'proj_b', 'proj_c') }),
  fc.record({
    role: fc.constant('CUSTOM' as const),
    scopeType: fc.constant('PROJECT' as const),
    scopeId: fc.constantFrom('proj_a', 'proj_c'),
    permissions: fc.subarray(permissions, { minLength: 1 }),
  }),
);

function subject(keyBindings: Binding[], ownerBindings: Binding[] | null, restricted: Permission[] | null): Subject {
  const grants = keyBindings.map((b) => {
    const g = grantFromBinding(catalogue, b, 'key');
    return restricted ? { ...g, permissions: new Set([...g.permissions].filter((p) => restricted.includes(p))) } : g;
  });
  return {
    grants,
    ownerGrants: ownerBindings ? ownerBindings.map((b) => grantFromBinding(catalogue, b, 'owner')) : null,
    scopes: [],
    tokenPermissions: null,
    restricted: restricted !== null,
  };
}

describe('the ceiling model (R13)', () => {
  it('never lets a personal key do what its owner cannot', () => {
    fc.assert(
      fc.property(
        fc.array(bindingArb, { minLength: 1, maxLength: 4 }),
        fc.array(bindingArb, { minLength: 1, maxLength: 4 }),
        fc.constantFrom(...permissions),
        fc.constantFrom<ScopeContext>({}, ...projects),
        (keyBindings, ownerBindings, permission, ctx) => {
          const asKey = decide(catalogue, subject(keyBindings, ownerBindings, null), { kind: 'permission', permission }, ctx);
          const asOwner = decide(catalogue, subject(ownerBindings, null, null), { kind: 'permission', permission }, ctx);
          if (asKey.allowed) expect(asOwner.allowed).toBe(true);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('never lets a restricted key use a permission it does not list', () => {
    fc.assert(
      fc.property(
        fc.array(bindingArb, { minLength: 1, maxLength: 3 }),
        fc.subarray(permissions, { minLength: 1 }),
        fc.constantFrom(...permissions),
        fc.constantFrom<ScopeContext>({}, ...projects),
        (keyBindings, listed, permission, ctx) => {
          const verdict = decide(catalogue, subject(keyBindings, null, listed), { kind: 'permission', permission }, ctx);
          if (verdict.allowed) expect(listed).toContain(permission);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('reports exactly the permissions decide allows', () => {
    fc.assert(
      fc.property(
        fc.array(bindingArb, { minLength: 1, maxLength: 3 }),
        fc.array(bindingArb, { minLength: 1, maxLength: 3 }),
        fc.constantFrom<ScopeContext>({}, ...projects),
        (keyBindings, ownerBindings, ctx) => {
          const s = subject(keyBindings, ownerBindings, null);
          const listed = new Set(effectivePermissions(s, ctx, permissions));
          for (const permission of permissions) {
            expect(decide(catalogue, s, { kind: 'permission', permission }, ctx).allowed).toBe(listed.has(permission));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('explains a denial by the owner cap, naming it', () => {
    const s = subject([{ role: 'ADMIN', scopeType: 'ORGANIZATION', scopeId: orgId }], [{ role: 'VIEWER', scopeType: 'ORGANIZATION', scopeId: orgId }], null);
    const verdict = decide(catalogue, { ...s, ownerLabel: 'owner usr_1' }, { kind: 'permission', permission: 'traces:write' }, projects[0]);
    expect(verdict.allowed).toBe(false);
    expect(verdict.explanation).toMatch(/capped by the owner's current rights: owner usr_1/);
  });

  it('lets a team binding cover its projects and nothing else', () => {
    const s = subject([{ role: 'MEMBER', scopeType: 'TEAM', scopeId: 'team_1' }], null, null);
    expect(decide(catalogue, s, { kind: 'permission', permission: 'traces:write' }, projects[1]).allowed).toBe(true);
    expect(decide(catalogue, s, { kind: 'permission', permission: 'traces:write' }, projects[2]).allowed).toBe(false);
  });
});

describe('role tables', () => {
  it('gives ADMIN everything, MEMBER read-only on secrets, team and project, VIEWER reads', () => {
    const admin = rolePermissions(catalogue, 'ADMIN', 'ORGANIZATION');
    const member = rolePermissions(catalogue, 'MEMBER', 'ORGANIZATION');
    const viewer = rolePermissions(catalogue, 'VIEWER', 'ORGANIZATION');
    expect([...admin].sort()).toEqual([...permissions].sort());
    for (const c of ['secrets', 'team', 'project']) {
      expect(member.has(`${c}:read`)).toBe(true);
      expect(member.has(`${c}:write`)).toBe(false);
    }
    expect(member.has('traces:write')).toBe(true);
    expect(member.has('organization:manage')).toBe(false);
    expect([...viewer].every((p) => p.endsWith(':read'))).toBe(true);
    expect(viewer.size).toBe(catalogue.categories.length);
  });

  it('keeps cost and auditLog read-only', () => {
    expect(permissions).toContain('cost:read');
    expect(permissions).not.toContain('cost:write');
    expect(permissions).not.toContain('auditLog:write');
  });

  it('grants organization:manage only to ADMIN at organization scope', () => {
    expect(rolePermissions(catalogue, 'ADMIN', 'PROJECT').has('organization:manage')).toBe(false);
    expect(rolePermissions(catalogue, 'ADMIN', 'TEAM').has('organization:manage')).toBe(false);
  });
});
