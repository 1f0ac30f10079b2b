/**
 * How background work on the server's event loop (the webhook delivery worker) gives way to requests.
 * While requests are being served (the count of requests moved within `servingWindowMs`), each piece
 * of background work is followed by a rest that keeps the work's share of the loop at most `share`
 * (a piece of 1 ms at a share of 0.1 rests 9 ms), so that a request seldom finds the loop busy with
 * it. While no request comes, there is no rest: the work runs flat out.
 */
export interface BackgroundPacerOptions {
  /** Requests received so far (a counter that only grows); undefined: never serving. */
  readonly requestsSeen?: (() => number) | undefined;
  readonly share: number;
  readonly servingWindowMs: number;
  /** The longest rest after one piece, whatever it took (a slow database round trip). */
  readonly longestRestMs: number;
  /** A monotonic clock in ms (performance.now). */
  readonly now?: () => number;
}

export interface BackgroundPacer {
  /** Whether requests are being served now. */
  serving(): boolean;
  /** Ends a piece of work begun at `startedAt` (by `now`): returns the rest it owes, in ms, and owes it until `restUntil()`. */
  rest(startedAt: number): number;
  /** When (by `now`) the last rest ends: no new piece should start before. */
  restUntil(): number;
}

export function createBackgroundPacer(options: BackgroundPacerOptions): BackgroundPacer {
  const now = options.now ?? (() => performance.now());
  let requestsBefore = -1;
  let requestSeenAt = Number.NEGATIVE_INFINITY;
  let restUntil = Number.NEGATIVE_INFINITY;
  const serving = (): boolean => {
    if (!options.requestsSeen) return false;
    const requests = options.requestsSeen();
    const at = now();
    if (requests !== requestsBefore) {
      // The first look only learns the count: requests seen before the work began are not "now".
      if (requestsBefore !== -1) requestSeenAt = at;
      requestsBefore = requests;
    }
    return at - requestSeenAt < options.servingWindowMs;
  };
  return {
    serving,
    rest(startedAt) {
      if (!serving()) return 0;
      const at = now();
      const restMs = Math.min(options.longestRestMs, (Math.max(0, at - startedAt) * (1 - options.share)) / options.share);
      restUntil = at + restMs;
      return restMs;
    },
    restUntil: () => restUntil,
  };
}
