/** One `authorization.denied` entry per caller, route and code in this window, at most. */
export const DENIAL_WINDOW_MS = 60_000;
/** Callers, routes and codes remembered at once; past it the oldest are forgotten (then audited anew). */
const TRACKED_DENIALS = 10_000;

export type DenialVerdict = { readonly audit: true; readonly suppressedRepeats: number } | { readonly audit: false };

/**
 * Coalesces the audit entries of repeated 403s: the first denial of a (caller, method and route,
 * code) is audited, identical ones within the next minute are only counted, and the first one after
 * the minute is audited again with `suppressedRepeats`, the number left out since the last entry. One
 * caller repeating a forbidden request thus adds at most one entry a minute per route and code to the
 * audit log instead of one per request (R42 keeps its evidence; the log keeps its bound).
 *
 * Per instance and in memory: N instances write at most N entries a minute for one repeated denial.
 */
export class DenialCoalescer {
  readonly #windows = new Map<string, { readonly untilMs: number; suppressed: number }>();

  constructor(
    private readonly windowMs = DENIAL_WINDOW_MS,
    private readonly tracked = TRACKED_DENIALS,
  ) {}

  /** Whether to audit this denial at `nowMs`, and how many identical ones went unaudited before it. */
  admit(key: string, nowMs: number): DenialVerdict {
    const window = this.#windows.get(key);
    if (window && nowMs < window.untilMs) {
      window.suppressed += 1;
      return { audit: false };
    }
    this.#windows.delete(key);
    if (this.#windows.size >= this.tracked) {
      const oldest = this.#windows.keys().next();
      if (!oldest.done) this.#windows.delete(oldest.value);
    }
    this.#windows.set(key, { untilMs: nowMs + this.windowMs, suppressed: 0 });
    return { audit: true, suppressedRepeats: window?.suppressed ?? 0 };
  }
}
