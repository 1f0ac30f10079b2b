import type { Verdict } from '../verdict.js';

/**
 * One window of a key's rate limits as a verdict reports it (the wire's shape): its limit, its
 * length (`windowSeconds`, which gives `RateLimit-Policy` its `w`), its remainder after this request
 * and when it ends (`resetAt`, an ISO 8601 instant).
 *
 * @example
 * const window: VerdictRateLimit = { name: 'requests', limit: 100, windowSeconds: 60, remaining: 99, resetAt: '2026-12-07T00:01:00.000Z' };
 */
export type VerdictRateLimit = NonNullable<Verdict['rateLimits']>[number];

/** Printable ASCII with `"` and `\` escaped: a Structured Field string (RFC 9651) of the window's name. */
function quoted(name: string): string {
  return `"${name.replace(/[^\x20-\x7e]/g, '').replace(/[\\"]/g, '\\$&')}"`;
}

/** Whole seconds until the window ends, rounded up, never negative. */
function secondsUntil(resetAt: string, nowMs: number): number {
  const resetMs = Date.parse(resetAt);
  return Number.isFinite(resetMs) ? Math.max(0, Math.ceil((resetMs - nowMs) / 1000)) : 0;
}

/** The window the caller will hit first: the least remaining; between equals, the one that resets soonest. */
function tightest(windows: readonly VerdictRateLimit[]): VerdictRateLimit {
  return windows.reduce((best, window) => {
    if (window.remaining !== best.remaining) return window.remaining < best.remaining ? window : best;
    return Date.parse(window.resetAt) < Date.parse(best.resetAt) ? window : best;
  });
}

/**
 * The rate-limit response headers for a key's windows, as the IETF draft
 * (draft-ietf-httpapi-ratelimit-headers) has them: `RateLimit-Policy` lists every window
 * (`"name";q=<limit>;w=<window seconds>`), `RateLimit` gives the tightest one
 * (`"name";r=<remaining>;t=<seconds to reset>`), and `RateLimit-Limit`, `RateLimit-Remaining` and
 * `RateLimit-Reset` repeat that window for clients of the older drafts. No windows, no headers.
 *
 * @example
 * rateLimitHeaders([{ name: 'requests', limit: 100, windowSeconds: 60, remaining: 99, resetAt: '2026-12-07T00:01:00.000Z' }], Date.parse('2026-12-07T00:00:30Z'));
 * // {"ratelimit-policy":"\"requests\";q=100;w=60","ratelimit":"\"requests\";r=99;t=30",
 * //  "ratelimit-limit":"100","ratelimit-remaining":"99","ratelimit-reset":"30"}
 */
export function rateLimitHeaders(windows: readonly VerdictRateLimit[] | undefined, nowMs: number): Record<string, string> {
  if (!windows || windows.length === 0) return {};
  const policy = windows.map((window) => `${quoted(window.name)};q=${window.limit};w=${window.windowSeconds}`);
  const first = tightest(windows);
  const remaining = Math.max(0, first.remaining);
  const resetSeconds = secondsUntil(first.resetAt, nowMs);
  return {
    'ratelimit-policy': policy.join(', '),
    ratelimit: `${quoted(first.name)};r=${remaining};t=${resetSeconds}`,
    'ratelimit-limit': String(first.limit),
    'ratelimit-remaining': String(remaining),
    'ratelimit-reset': String(resetSeconds),
  };
}
