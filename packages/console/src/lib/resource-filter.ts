/**
 * Inline check of a scope's resource filter, mirroring core/resources/resource-filter.ts: path segments
 * of letters, digits and `. _ ~ : @ + = -`, or `*` as a whole segment; `*` alone matches everything.
 */
const segmentPattern = /^[A-Za-z0-9._~:@+=-]+$/;

export function resourceFilterProblem(filter: string): string | null {
  if (filter.length === 0) return null; // empty means "*" (all resources)
  if (filter.length > 512) return 'Use at most 512 characters.';
  const segments = filter.split('/');
  if (segments.length > 32) return 'Use at most 32 segments.';
  for (const segment of segments) {
    if (segment === '') return 'Remove the empty segment (a leading, trailing or double "/").';
    if (segment === '*') continue;
    if (segment === '.' || segment === '..') return '"." and ".." segments are not allowed.';
    if (segment.includes('*')) return '"*" must be a whole segment, as in projects/*/traces.';
    if (segment.includes('%')) return 'Write the path without percent-encoding.';
    if (!segmentPattern.test(segment)) return 'Segments may only contain letters, digits and . _ ~ : @ + = -';
  }
  return null;
}
