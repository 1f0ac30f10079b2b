import { Worker } from 'node:worker_threads';
import { StoreUnavailable, transactionalUsageWriter, type UsageBatch, type UsageWriter } from '@keyward/core';
import type { KyselyStore } from './open-store.js';
import { yieldToEventLoop } from './repositories/db.js';
import type { UsageWorkerData, UsageWorkerReply, UsageWorkerRequest } from './sqlite-usage-worker.js';

/**
 * The worker's compiled module. From the TypeScript sources (tests), the built one in `dist/`: a
 * worker thread cannot load TypeScript.
 */
function workerUrl(): URL {
  return import.meta.url.endsWith('.ts')
    ? new URL('../dist/sqlite-usage-worker.js', import.meta.url)
    : new URL('./sqlite-usage-worker.js', import.meta.url);
}

/**
 * The usage writer a store wants: for a SQLite file, a worker thread with its own connection (a
 * commit's fsync takes milliseconds, and on the server's thread it would hold every request waiting
 * behind it); for PostgreSQL (asynchronous I/O) and in-memory SQLite (one connection only), small
 * transactions on the caller's thread.
 */
export function usageWriterFor(store: KyselyStore, options: { lockWaitMs?: number | undefined } = {}): UsageWriter {
  const sqlite = store.connection.sqlite;
  if (!sqlite || sqlite.memory) return transactionalUsageWriter(store);
  return sqliteUsageWriter({ file: sqlite.name, lockWaitMs: options.lockWaitMs });
}

/** Rows copied to the worker per message: copying a message holds the event loop, about a millisecond for this many. */
const ROWS_PER_MESSAGE = 1_000;

/**
 * Sends a batch to the worker in parts of at most ROWS_PER_MESSAGE rows, an event-loop turn apart (the
 * worker writes the whole batch in one transaction once its last part arrived), so that a flush of a
 * million keys never holds the server's event loop for the time its copy takes.
 */
async function postInParts(worker: Worker, id: number, batch: UsageBatch): Promise<void> {
  const { increments, touches, spends } = batch;
  const rows = increments.length + touches.length;
  if (rows <= ROWS_PER_MESSAGE) {
    worker.postMessage({ id, part: batch, last: true } satisfies UsageWorkerRequest);
    return;
  }
  for (let from = 0; from < rows; from += ROWS_PER_MESSAGE) {
    if (from > 0) await yieldToEventLoop();
    const to = Math.min(from + ROWS_PER_MESSAGE, rows);
    const part: UsageBatch = {
      increments: increments.slice(Math.min(from, increments.length), Math.min(to, increments.length)),
      touches: touches.slice(Math.max(0, from - increments.length), Math.max(0, to - increments.length)),
      spends: from === 0 ? spends : [],
    };
    worker.postMessage({ id, part, last: to === rows } satisfies UsageWorkerRequest);
  }
}

/**
 * Usage written by a worker thread on its own connection to the SQLite file, one transaction per
 * flush. The worker starts on the first write and again after it died; while a write is pending it
 * keeps the process alive (a final flush at shutdown is never cut short), otherwise it does not.
 */
export function sqliteUsageWriter(data: UsageWorkerData): UsageWriter {
  let worker: Worker | null = null;
  let nextId = 0;
  const pending = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();

  const failAll = (err: Error) => {
    for (const { reject } of pending.values()) reject(err);
    pending.clear();
  };
  const start = (): Worker => {
    // No inherited flags: under a test runner they would make the worker resolve packages to their
    // TypeScript sources, which a worker cannot load.
    const started = new Worker(workerUrl(), { workerData: data, execArgv: [] });
    started.unref();
    started.on('message', ({ id, error }: UsageWorkerReply) => {
      const waiting = pending.get(id);
      if (!waiting) return;
      pending.delete(id);
      if (pending.size === 0) started.unref();
      if (error) waiting.reject(new StoreUnavailable(`usage not written: ${error.name}: ${error.message}`));
      else waiting.resolve();
    });
    started.on('error', (err) => failAll(new StoreUnavailable(`usage writer failed: ${err.message}`, { cause: err })));
    started.on('exit', (code) => {
      if (worker === started) worker = null;
      failAll(new StoreUnavailable(`usage writer stopped (exit code ${code})`));
    });
    return started;
  };

  return {
    write(batch: UsageBatch, written) {
      if (batch.increments.length === 0 && batch.touches.length === 0 && batch.spends.length === 0) return Promise.resolve();
      worker ??= start();
      const target = worker;
      const id = nextId++;
      return new Promise<void>((resolve, reject) => {
        pending.set(id, {
          resolve: () => {
            written(batch.increments.length, batch.touches.length, batch.spends.length);
            resolve();
          },
          reject,
        });
        target.ref();
        void postInParts(target, id, batch).catch((err: unknown) => {
          pending.delete(id);
          reject(err instanceof Error ? err : new Error(String(err)));
        });
      });
    },
    async close() {
      const stopping = worker;
      worker = null;
      if (stopping) await stopping.terminate();
    },
  };
}
