import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allPermissions, defaultCatalogue, ORGANIZATION_MANAGE, type Permission } from '../permissions/catalogue.js';
import { decide, type Ask, type Subject } from '../permissions/decide.js';
import { grantFromBinding, type ScopeContext } from '../permissions/rights.js';
import { withImpliedReads, type Binding } from '../permissions/roles.js';
import type { Scope } from '../resources/resource-filter.js';
import { filterCovers, placesFor, rightsBeyond, scopeCovers } from './granting.js';

const catalogue = defaultCatalogue;
const orgId = 'org_test';
const permissions = allPermissions(catalogue);
/** Projects a and b sit in team_1 and c in no team; d (team_2) and e (no team) are never named by a grant. */
const teamOf = new Map<string, string | null>([
  ['proj_a', 'team_1'],
  ['proj_b', 'team_1'],
  ['proj_c', null],
  ['proj_d', 'team_2'],
  ['proj_e', null],
]);
const contexts: ScopeContext[] = [{}, ...[...teamOf].map(([projectId, teamId]) => ({ projectId, teamId }))];

const roleArb = fc.constantFrom('ADMIN' as const, 'MEMBER' as const, 'VIEWER' as const);
const bindingArb: fc.Arbitrary<Binding> = fc.oneof(
  fc.record({ role: roleArb, scopeType: fc.constant('ORGANIZATION' as const), scopeId: fc.constant(orgId) }),
  fc.record({ role: roleArb, scopeType: fc.constant('TEAM' as const), scopeId: fc.constantFrom('team_1', 'team_2') }),
  fc.record({ role: roleArb, scopeType: fc.constant('PROJECT' as const), scopeId: fc.constantFrom('proj_a', 'proj_b', 'proj_c') }),
  fc.record({
    role: fc.constant('CUSTOM' as const),
    scopeType: fc.constantFrom('ORGANIZATION' as const, 'PROJECT' as const),
    scopeId: fc.constantFrom('proj_a', 'proj_c'),
    permissions: fc.subarray(permissions, { minLength: 1, maxLength: 6 }),
  }).map((b) => (b.scopeType === 'ORGANIZATION' ? { ...b, scopeId: orgId } : b)),
);
const filters = ['*', 'projects', 'projects/*', 'projects/proj_a', 'projects/proj_a/*', 'projects/proj_a/traces', 'projects/*/traces', 'projects/proj_d/datasets', 'organization', 'traces', 'foo/*'];
const scopeArb: fc.Arbitrary<Scope> = fc.record({
  action: fc.constantFrom('read' as const, 'write' as const, 'admin' as const, '*' as const),
  resource: fc.constantFrom(...filters),
});

/** A credential as `decide` sees it: a person, a key (restricted, scoped, capped by an owner) or a token. */
const subjectArb: fc.Arbitrary<Subject> = fc
  .record({
    bindings: fc.array(bindingArb, { minLength: 1, maxLength: 3 }),
    owner: fc.option(fc.array(bindingArb, { minLength: 1, maxLength: 3 }), { nil: null }),
    restriction: fc.option(fc.subarray(permissions, { minLength: 1, maxLength: 8 }), { nil: null }),
    scopes: fc.oneof(fc.constant([] as Scope[]), fc.array(scopeArb, { minLength: 1, maxLength: 3 })),
    tokenPermissions: fc.option(fc.subarray(permissions, { minLength: 1, maxLength: 8 }), { nil: null }),
  })
  .map(({ bindings, owner, restriction, scopes, tokenPermissions }) => {
    const allowed = restriction ? withImpliedReads(restriction) : null;
    return {
      grants: bindings.map((b) => {
        const grant = grantFromBinding(catalogue, b, 'key');
        return allowed ? { ...grant, permissions: new Set([...grant.permissions].filter((p) => allowed.has(p))) } : grant;
      }),
      ownerGrants: owner ? owner.map((b) => grantFromBinding(catalogue, b, 'owner')) : null,
      scopes,
      tokenPermissions,
      restricted: restriction !== null,
    };
  });

const resources = ['projects/proj_a/traces', 'projects/proj_a/traces/tr_1', 'projects/proj_c/datasets', 'projects/proj_d/widgets/w_1', 'projects/proj_e/x', 'organization', 'traces', 'foo/bar', 'foo'];
const askArb: fc.Arbitrary<Ask> = fc.oneof(
  fc.constantFrom(...permissions).map((permission): Ask => ({ kind: 'permission', permission })),
  fc.record({ action: fc.constantFrom('read' as const, 'write' as const, 'admin' as const), resource: fc.constantFrom(...resources) }).map(
    (r): Ask => ({ kind: 'resource', ...r }),
  ),
);

function beyond(granter: Subject, granted: Subject): string[] {
  return rightsBeyond(catalogue, granter, granted, placesFor([granter, granted], teamOf));
}

function user(bindings: Binding[]): Subject {
  return { grants: bindings.map((b) => grantFromBinding(catalogue, b, 'user')), ownerGrants: null, scopes: [], tokenPermissions: null, restricted: false };
}

describe('the granting rule', () => {
  it('never passes a grant that can do anything, anywhere, that its granter cannot (soundness)', () => {
    fc.assert(
      fc.property(subjectArb, subjectArb, fc.array(fc.tuple(askArb, fc.constantFrom(...contexts)), { minLength: 20, maxLength: 20 }), (granter, granted, asks) => {
        if (beyond(granter, granted).length > 0) return;
        for (const [ask, ctx] of asks) {
          if (decide(catalogue, granted, ask, ctx).allowed) {
            expect(decide(catalogue, granter, ask, ctx).allowed, `${JSON.stringify(ask)} at ${JSON.stringify(ctx)}`).toBe(true);
          }
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('never passes other scopes, restrictions or token scopes on the same grants beyond the granter (soundness, near misses)', () => {
    const variantArb = fc.tuple(subjectArb, subjectArb, fc.constantFrom('scopes', 'tokenPermissions', 'ownerGrants', 'restricted')).map(([granter, other, field]) => {
      const granted: Subject = { ...granter, [field]: other[field] };
      return [granter, granted] as const;
    });
    fc.assert(
      fc.property(variantArb, fc.array(fc.tuple(askArb, fc.constantFrom(...contexts)), { minLength: 30, maxLength: 30 }), ([granter, granted], asks) => {
        if (beyond(granter, granted).length > 0) return;
        for (const [ask, ctx] of asks) {
          if (decide(catalogue, granted, ask, ctx).allowed) {
            expect(decide(catalogue, granter, ask, ctx).allowed, `${JSON.stringify(ask)} at ${JSON.stringify(ctx)}`).toBe(true);
          }
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('keeps granting transitive: a chain of passing grants never ends above its start', () => {
    fc.assert(
      fc.property(fc.array(subjectArb, { minLength: 2, maxLength: 4 }), (chain) => {
        for (let i = 1; i < chain.length; i++) if (beyond(chain[i - 1]!, chain[i]!).length > 0) return;
        for (const ask of permissions.map((permission): Ask => ({ kind: 'permission', permission }))) {
          for (const ctx of contexts) {
            if (decide(catalogue, chain.at(-1)!, ask, ctx).allowed) expect(decide(catalogue, chain[0]!, ask, ctx).allowed).toBe(true);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('lets every credential grant exactly what it holds (no false refusal of a copy)', () => {
    fc.assert(
      fc.property(subjectArb, (subject) => {
        expect(beyond(subject, subject)).toEqual([]);
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses an org-wide ADMIN key to a key restricted to organization:manage, and names what is beyond', () => {
    const admin: Binding = { role: 'ADMIN', scopeType: 'ORGANIZATION', scopeId: orgId };
    const manageOnly: Subject = {
      ...user([admin]),
      grants: [{ ...grantFromBinding(catalogue, admin, 'key'), permissions: new Set<Permission>([ORGANIZATION_MANAGE]) }],
      restricted: true,
    };
    const excess = beyond(manageOnly, user([admin]));
    expect(excess).toContain('traces:write on the organization');
    expect(excess).toContain('admin on any resource of the organization');
    expect(beyond(user([admin]), manageOnly)).toEqual([]);
  });

  it('refuses a project binding to someone who holds only another project, and lets a team admin grant a project of the team', () => {
    const onA = user([{ role: 'ADMIN', scopeType: 'PROJECT', scopeId: 'proj_a' }]);
    const onC = user([{ role: 'VIEWER', scopeType: 'PROJECT', scopeId: 'proj_c' }]);
    expect(beyond(onA, onC)).toContain('traces:read on project proj_c');
    const teamAdmin = user([{ role: 'ADMIN', scopeType: 'TEAM', scopeId: 'team_1' }]);
    expect(beyond(teamAdmin, onA)).toEqual([]);
    expect(beyond(onA, teamAdmin).some((e) => e.includes('team_1'))).toBe(true);
  });

  it('asks a scoped granter for scopes within its own', () => {
    const admin = user([{ role: 'ADMIN', scopeType: 'ORGANIZATION', scopeId: orgId }]);
    const scoped = { ...admin, scopes: [{ action: 'write' as const, resource: 'projects/proj_a/*' }] };
    expect(beyond(scoped, admin)).toEqual([expect.stringContaining('every resource path')]);
    expect(beyond(scoped, { ...admin, scopes: [{ action: 'read', resource: 'projects/proj_a/traces' }] })).toEqual([]);
    expect(beyond(scoped, { ...admin, scopes: [{ action: 'admin', resource: 'projects/proj_a/traces' }] })).toEqual(['scope admin on projects/proj_a/traces']);
    expect(beyond(scoped, { ...admin, scopes: [{ action: 'read', resource: 'projects/*/traces' }] })).toEqual(['scope read on projects/*/traces']);
  });
});

describe('scope containment', () => {
  it('matches the matcher: whatever the inner filter lets through, the outer does', () => {
    const paths = ['projects', 'projects/proj_a', 'projects/proj_a/traces', 'projects/proj_b/traces/x', 'organization', 'traces', 'foo/bar/baz'];
    for (const outer of filters) {
      for (const inner of filters) {
        if (!filterCovers(outer, inner)) continue;
        for (const path of paths) {
          const innerMatches = inner === '*' || (inner.split('/').length <= path.split('/').length && inner.split('/').every((s, i) => s === '*' || s === path.split('/')[i]));
          const outerMatches = outer === '*' || (outer.split('/').length <= path.split('/').length && outer.split('/').every((s, i) => s === '*' || s === path.split('/')[i]));
          if (innerMatches) expect(outerMatches, `${outer} ⊇ ${inner} at ${path}`).toBe(true);
        }
      }
    }
    expect(scopeCovers({ action: 'admin', resource: '*' }, { action: '*', resource: 'x' })).toBe(true);
    expect(scopeCovers({ action: 'write', resource: '*' }, { action: '*', resource: 'x' })).toBe(false);
  });
});
