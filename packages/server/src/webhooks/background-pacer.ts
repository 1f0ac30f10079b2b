import { performance } from 'node:perf_hooks';

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
  /** The loop time of one unit of work before any is learned, in ms. */
  readonly initialUnitCostMs: number;
  /** A monotonic clock in ms (performance.now). */
  readonly now?: () => number;
  /** The event loop's busy time so far, in ms (`performance.eventLoopUtilization().active`). */
  readonly loopBusyMs?: () => number;
}

export interface BackgroundPacer {
  /** Whether requests are being served now. */
  serving(): boolean;
  /**
   * Ends a piece of work begun at `startedAt` (by `now`) that started `units` of work: returns the
   * rest it owes, in ms, and owes it until `restUntil()`.
   */
  rest(startedAt: number, units?: number): number;
  /** When (by `now`) the last rest ends: no new piece should start before. */
  restUntil(): number;
  /** Counts units of work finished; what they cost the loop is learned from them while no request comes. */
  finished(units: number): void;
  /** The loop time of one unit of work, as learned so far, in ms. */
  unitCostMs(): number;
}

/** Units finished with no request meanwhile before their cost is learned from them. */
const LEARN_AFTER_UNITS = 32;
const LEAST_UNIT_COST_MS = 0.01;
const MOST_UNIT_COST_MS = 20;

export function createBackgroundPacer(options: BackgroundPacerOptions): BackgroundPacer {
  const now = options.now ?? (() => performance.now());
  const loopBusyMs = options.loopBusyMs ?? (() => performance.eventLoopUtilization().active);
  const requestsNow = (): number => options.requestsSeen?.() ?? 0;
  let requestsBefore = -1;
  let requestSeenAt = Number.NEGATIVE_INFINITY;
  let restUntil = Number.NEGATIVE_INFINITY;
  let unitCostMs = options.initialUnitCostMs;
  /** Since when units are counted for learning their cost: no request may come in between. */
  let sample = { busyMs: loopBusyMs(), requests: requestsNow(), units: 0 };
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
    rest(startedAt, units = 0) {
      if (!serving()) return 0;
      const at = now();
      const costMs = Math.max(0, at - startedAt) + units * unitCostMs;
      const restMs = Math.min(options.longestRestMs, (costMs * (1 - options.share)) / options.share);
      restUntil = at + restMs;
      return restMs;
    },
    restUntil: () => restUntil,
    finished(units) {
      const requests = requestsNow();
      if (requests !== sample.requests) {
        // Requests shared the loop: what it was busy with is not the units' alone. Count afresh.
        sample = { busyMs: loopBusyMs(), requests, units: 0 };
        return;
      }
      sample.units += units;
      if (sample.units < LEARN_AFTER_UNITS) return;
      const busyMs = loopBusyMs();
      const measuredMs = Math.min(MOST_UNIT_COST_MS, Math.max(LEAST_UNIT_COST_MS, (busyMs - sample.busyMs) / sample.units));
      // Half the old estimate, half the new: one odd sample moves it only so far.
      unitCostMs = (unitCostMs + measuredMs) / 2;
      sample = { busyMs, requests, units: 0 };
    },
    unitCostMs: () => unitCostMs,
  };
}
