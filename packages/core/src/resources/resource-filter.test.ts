import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { actionAllows, filterMatches, resourceFilterProblem, resourcePathProblem, scopeAllowing } from './resource-filter.js';

describe('resource filters (R18)', () => {
  it('matches a segment-wise prefix, with * as one whole segment', () => {
    expect(filterMatches('*', 'projects/proj_1/traces/tr_9')).toBe(true);
    expect(filterMatches('projects/proj_1', 'projects/proj_1/traces/tr_9')).toBe(true);
    expect(filterMatches('projects/*/traces', 'projects/proj_1/traces/tr_9')).toBe(true);
    expect(filterMatches('projects/*/traces', 'projects/proj_1/datasets')).toBe(false);
    expect(filterMatches('projects/proj_1', 'projects/proj_12')).toBe(false);
    expect(filterMatches('projects/proj_1/traces/tr_9/x', 'projects/proj_1/traces/tr_9')).toBe(false);
  });

  it.each(['projects/../secrets', 'projects/%2e%2e/x', 'projects%2fproj_1', 'a//b', '/a', 'a/', 'a/./b', 'pro*', '%252F', 'a b', 'ü'])(
    'refuses the adversarial path %s',
    (path) => {
      expect(resourcePathProblem(path)).not.toBeNull();
      expect(filterMatches('*', path)).toBe(true);
      expect(filterMatches(path.split('/')[0] || 'projects', path)).toBe(false);
    },
  );

  it('accepts * only as a whole segment in filters', () => {
    expect(resourceFilterProblem('projects/*/traces')).toBeNull();
    expect(resourceFilterProblem('projects/pr*')).not.toBeNull();
    expect(resourcePathProblem('projects/*')).not.toBeNull();
  });

  it('orders actions read < write < admin, and * allows all', () => {
    expect(actionAllows('write', 'read')).toBe(true);
    expect(actionAllows('read', 'write')).toBe(false);
    expect(actionAllows('admin', 'write')).toBe(true);
    expect(actionAllows('*', 'admin')).toBe(true);
  });

  const segment = fc.stringMatching(/^[A-Za-z0-9._~:@+=-]{1,8}$/).filter((s) => s !== '.' && s !== '..');
  const path = fc.array(segment, { minLength: 1, maxLength: 6 }).map((s) => s.join('/'));

  it('agrees with a reference matcher on generated paths and filters', () => {
    const reference = (filter: string, resource: string) => {
      if (filter === '*') return true;
      const f = filter.split('/');
      const r = resource.split('/');
      return f.length <= r.length && f.every((part, i) => part === '*' || part === r[i]);
    };
    const filter = fc.array(fc.oneof(segment, fc.constant('*')), { minLength: 1, maxLength: 6 }).map((s) => s.join('/'));
    fc.assert(
      fc.property(filter, path, (f, r) => {
        expect(filterMatches(f, r)).toBe(reference(f, r));
      }),
      { numRuns: 3000 },
    );
  });

  it('never lets a scope allow more than its action and filter', () => {
    fc.assert(
      fc.property(path, fc.constantFrom('read', 'write', 'admin' as const), (resource, action) => {
        const scope = scopeAllowing([{ action: 'read', resource: 'projects/proj_1' }], action, resource);
        if (scope) {
          expect(action).toBe('read');
          expect(resource === 'projects/proj_1' || resource.startsWith('projects/proj_1/')).toBe(true);
        }
      }),
    );
  });
});
