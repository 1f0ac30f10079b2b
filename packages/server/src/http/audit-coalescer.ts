/** One entry per repeated event (a caller's denial on a route, a failed login to an account) in this window, at most. */
export const COALESCING_WINDOW_MS = 60_000;
/** Events remembered at once; past it the oldest are forgotten (then audited anew). */
const TRACKED_EVENTS = 10_000;

export type CoalescingVerdict = { readonly audit: true; readonly suppressedRepeats: number } | { readonly audit: false };

/**
 * Coalesces the audit entries of a repeated event, such as a caller's 403s on one route with one code
 * or failed logins to one account: the first is audited, identical ones within the next minute are
 * only counted, and the first one after the minute is audited again with `suppressedRepeats`, the
 * number left out since the last entry. Repeating a refused request thus adds at most one entry a
 * minute to the audit log instead of one per request (R42 keeps its evidence; the log keeps its bound).
 *
 * Per instance and in memory: N instances write at most N entries a minute for one repeated event.
 */
export class AuditCoalescer {
  readonly #windows = new Map<string, { readonly untilMs: number; suppressed: number }>();

  constructor(
    private readonly windowMs = COALESCING_WINDOW_MS,
    private readonly tracked = TRACKED_EVENTS,
  ) {}

  /** Whether to audit this event at `nowMs`, and how many identical ones went unaudited before it. */
  admit(key: string, nowMs: number): CoalescingVerdict {
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
