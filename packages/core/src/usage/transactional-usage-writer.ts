import type { Store, UsageBatch, UsageWriter } from '../ports.js';

/** Rows written per transaction: small enough that one holds the event loop about a millisecond. */
const ROWS_PER_TRANSACTION = 500;

/** Resolves on the event loop's next turn (after pending I/O): long work in slices lets requests through. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export interface TransactionalUsageWriterOptions {
  /** Rows (counts and `lastUsedAt`s) per transaction (default 500). */
  readonly rowsPerTransaction?: number;
  /** Waits between two transactions of one flush (default: one event-loop turn). */
  readonly pause?: () => Promise<void>;
}

/**
 * Usage written through the store on the caller's event loop, in small transactions an event-loop
 * turn apart, so that a big flush never holds the loop (or SQLite's write lock) for long. Each
 * transaction is all or nothing and reported as written once committed. What PostgreSQL and
 * in-memory SQLite use; a SQLite file uses a worker thread instead (`@keyward/store`).
 */
export function transactionalUsageWriter(store: Pick<Store, 'transaction'>, options: TransactionalUsageWriterOptions = {}): UsageWriter {
  const chunk = options.rowsPerTransaction ?? ROWS_PER_TRANSACTION;
  const pause = options.pause ?? nextTurn;
  return {
    async write({ increments, touches, spends }: UsageBatch, written) {
      let counted = 0;
      let touched = 0;
      // Spent credits go in the first transaction: one statement per key that spent any.
      let spent = spends.length;
      while (counted < increments.length || touched < touches.length || spent > 0) {
        const someIncrements = increments.slice(counted, counted + chunk);
        const room = chunk - someIncrements.length;
        const someTouches = room > 0 ? touches.slice(touched, touched + room) : [];
        const someSpends = spent > 0 ? spends : [];
        await store.transaction(async (tx) => {
          if (someSpends.length) await tx.keys.spendCredits(someSpends);
          if (someIncrements.length) await tx.usage.add(someIncrements);
          if (someTouches.length) await tx.keys.touchLastUsed(someTouches);
        });
        counted += someIncrements.length;
        touched += someTouches.length;
        spent = 0;
        written(someIncrements.length, someTouches.length, someSpends.length);
        if (counted < increments.length || touched < touches.length) await pause();
      }
    },
    async close() {},
  };
}
