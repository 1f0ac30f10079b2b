import { randomBytes } from 'node:crypto';
import { sendExpiryReminders, type CoreDeps } from '@keyward/core';

const LEASE = 'expiry-reminders';

export interface ExpiryScheduler {
  /** Looks for due reminders now, after any pass under way (if this instance holds the lease); resolves with how many it sent. */
  runOnce(): Promise<number>;
  /** Stops the timer, waits for a running pass and gives the lease up. */
  stop(): Promise<void>;
}

/**
 * Expiry reminders, every `intervalMs`, on one instance at a time: each pass first takes or extends a
 * lease in the store (for three intervals), so with several instances one of them sends while the
 * others wait, and another takes over within three intervals when it stops. Each reminder is claimed
 * in the store as it is sent (`sendExpiryReminders`), so even two passes at once send it once.
 */
export function startExpiryScheduler(options: {
  deps: Pick<CoreDeps, 'store' | 'clock' | 'ids'>;
  intervalMs: number;
  onError: (err: unknown, msg: string) => void;
}): ExpiryScheduler {
  const { deps, intervalMs } = options;
  const holder = randomBytes(8).toString('hex');
  let running: Promise<number> | null = null;
  let stopped = false;

  const pass = async (): Promise<number> => {
    const now = deps.clock.now();
    if (!(await deps.store.leases.acquire(LEASE, holder, now, new Date(now.getTime() + 3 * intervalMs)))) return 0;
    return sendExpiryReminders(deps);
  };
  const runOnce = async (): Promise<number> => {
    // A pass already under way (the timer's) may have started before what the caller wants seen.
    while (running) await running.catch(() => 0);
    const current = pass().finally(() => {
      running = null;
    });
    running = current;
    return current;
  };
  const tick = () => {
    if (stopped || running) return;
    runOnce().catch((err: unknown) => options.onError(err, 'expiry reminders failed; retried at the next interval'));
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  // The first pass soon after start, not a whole interval later.
  const first = setTimeout(tick, Math.min(intervalMs, 1000));
  first.unref();

  return {
    runOnce,
    async stop() {
      stopped = true;
      clearInterval(timer);
      clearTimeout(first);
      await running?.catch(() => {});
      await deps.store.leases.release(LEASE, holder).catch(() => {});
    },
  };
}
