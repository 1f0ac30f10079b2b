import { parentPort, workerData } from 'node:worker_threads';
import type { UsageBatch } from '@keyward/core';
import { openStore } from './open-store.js';

/**
 * The worker thread behind `sqliteUsageWriter`: its own connection to the database file, so that a
 * usage flush's statements and its commit's fsync (`synchronous=FULL`, R48) run here and never on the
 * server's event loop. One batch is one transaction.
 */
export interface UsageWorkerData {
  readonly file: string;
  /** How long a transaction waits for another connection's write lock (the store's default if unset). */
  readonly lockWaitMs?: number | undefined;
}

/** A part of batch `id`; the batch is written, in one transaction, when its last part arrives. */
export type UsageWorkerRequest = { readonly id: number; readonly part: UsageBatch; readonly last: boolean };
export type UsageWorkerReply = { readonly id: number; readonly error: { readonly name: string; readonly message: string } | null };

const port = parentPort;
if (!port) throw new Error('sqlite-usage-worker runs as a worker thread');
const { file, lockWaitMs } = workerData as UsageWorkerData;
// It only writes usage: no verification reader.
const store = await openStore(`sqlite:${file}`, { lockWaitMs, verificationReader: false });

/** The parts received of batches not yet whole (a batch's parts arrive in order). */
const receiving = new Map<number, UsageBatch[]>();

port.on('message', ({ id, part, last }: UsageWorkerRequest) => {
  let parts = receiving.get(id);
  if (!parts) receiving.set(id, (parts = []));
  parts.push(part);
  if (!last) return;
  receiving.delete(id);
  const batch: UsageBatch =
    parts.length === 1
      ? part
      : { increments: parts.flatMap((p) => p.increments), touches: parts.flatMap((p) => p.touches), spends: parts.flatMap((p) => p.spends) };
  store
    .transaction(async (tx) => {
      if (batch.increments.length) await tx.usage.add(batch.increments);
      if (batch.touches.length) await tx.keys.touchLastUsed(batch.touches);
      if (batch.spends.length) await tx.keys.spendCredits(batch.spends);
    })
    .then(
      () => port.postMessage({ id, error: null } satisfies UsageWorkerReply),
      (err: unknown) => {
        const { name, message } = err instanceof Error ? err : new Error(String(err));
        port.postMessage({ id, error: { name, message } } satisfies UsageWorkerReply);
      },
    );
});
