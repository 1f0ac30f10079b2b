/**
 * Scopes: an action plus a resource filter (the console seed's "Scopes"). A resource is a path of
 * segments such as `projects/proj_123/traces/tr_9`; a filter is a path of literal segments and `*`
 * (one whole segment), and matches a resource when it is a segment-wise prefix of it; `*` alone matches
 * everything. Actions are ordered `read < write < admin`; a scope's `*` means any action.
 *
 * Paths are matched in one canonical form, decided here once: segments of `[A-Za-z0-9._~:@+=-]`, none
 * empty, none `.` or `..`, no percent-encoding at all (so `%2e`, `%2f` and double encoding cannot smuggle
 * a separator or a dot segment past the matcher), at most 32 segments and 512 characters.
 */
export const scopeActions = ['read', 'write', 'admin', '*'] as const;
export type ScopeAction = (typeof scopeActions)[number];
export type Action = Exclude<ScopeAction, '*'>;

export interface Scope {
  readonly action: ScopeAction;
  readonly resource: string;
}

const actionRank: Record<Action, number> = { read: 1, write: 2, admin: 3 };
const segmentPattern = /^[A-Za-z0-9._~:@+=-]+$/;
export const MAX_PATH_LENGTH = 512;
export const MAX_PATH_SEGMENTS = 32;

export type PathProblem = string;

function checkSegments(path: string, allowWildcard: boolean): PathProblem | null {
  if (path.length === 0) return 'must not be empty';
  if (path.length > MAX_PATH_LENGTH) return `must be at most ${MAX_PATH_LENGTH} characters`;
  const segments = path.split('/');
  if (segments.length > MAX_PATH_SEGMENTS) return `must have at most ${MAX_PATH_SEGMENTS} segments`;
  for (const segment of segments) {
    if (segment === '') return 'must not contain empty segments (leading, trailing or double "/")';
    if (segment === '*') {
      if (allowWildcard) continue;
      return '"*" is only allowed in filters, not in resources';
    }
    if (segment === '.' || segment === '..') return 'must not contain "." or ".." segments';
    if (segment.includes('*')) return '"*" must be a whole segment';
    if (segment.includes('%')) return 'must not be percent-encoded';
    if (!segmentPattern.test(segment)) return 'segments may only contain letters, digits and . _ ~ : @ + = -';
  }
  return null;
}

/** Why a filter is invalid, or null when it is valid. `*` alone is valid and matches all. */
export function resourceFilterProblem(filter: string): PathProblem | null {
  return checkSegments(filter, true);
}

/** Why a resource path is invalid, or null. */
export function resourcePathProblem(resource: string): PathProblem | null {
  return checkSegments(resource, false);
}

/** Both inputs must be valid (checked above); an invalid resource never matches. */
export function filterMatches(filter: string, resource: string): boolean {
  if (filter === '*') return true;
  if (resourcePathProblem(resource) !== null) return false;
  const f = filter.split('/');
  const r = resource.split('/');
  if (f.length > r.length) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] !== '*' && f[i] !== r[i]) return false;
  }
  return true;
}

export function actionAllows(granted: ScopeAction, asked: Action): boolean {
  return granted === '*' || actionRank[granted] >= actionRank[asked];
}

/** The first scope that allows the action on the resource, or undefined. */
export function scopeAllowing(scopes: readonly Scope[], action: Action, resource: string): Scope | undefined {
  return scopes.find((s) => actionAllows(s.action, action) && filterMatches(s.resource, resource));
}

export function isAction(value: string): value is Action {
  return value === 'read' || value === 'write' || value === 'admin';
}

/** `read` → 1, `write` → 2, `admin` → 3: the role rank an action needs on a generic resource. */
export function actionRankOf(action: Action): number {
  return actionRank[action];
}
