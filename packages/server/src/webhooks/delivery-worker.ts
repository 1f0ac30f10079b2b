import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  WEBHOOK_DISABLE_AFTER_MS,
  decryptWebhookSecret,
  fanOutEvents,
  signWebhook,
  type ClaimedWebhookDelivery,
  type Clock,
  type IdGenerator,
  type Repositories,
  type Store,
  type WebhookEndpointPatch,
} from '@keyward/core';
import type { WebhookSettings } from '../config.js';
import { createBackgroundPacer } from './background-pacer.js';
import { createWebhookSender, type SendOutcome, type WebhookSender } from './send-webhook.js';

export interface DeliveryWorkerDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly encryptionKey: Buffer;
  readonly settings: WebhookSettings;
  /** Requests this instance has received so far: while it moves the worker paces itself (`SHARE_WHILE_SERVING`). */
  readonly requestsSeen?: () => number;
  readonly onError: (err: unknown, message: string) => void;
  /** Counts finished attempts by outcome (metrics). */
  readonly onAttempt?: (outcome: 'succeeded' | 'retrying' | 'failed') => void;
}

export interface DeliveryWorker {
  start(): void;
  /** Stops claiming, lets sends in flight finish for a moment, then aborts the rest. */
  stop(): Promise<void>;
}

const POLL_MS = 250;
/** Finished deliveries (and their events) are kept this long for the delivery log, then deleted. */
export const WEBHOOK_LOG_RETENTION_MS = 30 * 24 * 3600_000;
const PRUNE_EVERY_MS = 3600_000;
const PRUNE_BATCH = 1000;
const STOP_GRACE_MS = 3000;
/** How long past its timeout a claimed attempt stays this instance's before another may take it. */
const LEASE_MARGIN_MS = 30_000;
/** Finished attempts recorded in one transaction at most, and how long the first of them waits for others. */
const RECORDS_PER_TRANSACTION = 64;
/**
 * ...and while requests are being served: pieces short enough that a request waits little for one, yet
 * large, since a commit writes (and on SQLite syncs) every page it touched once: many small commits
 * write the same pages again and again, and the disk work is what requests wait for too.
 */
const RECORDS_WHILE_SERVING = 32;
const RECORD_WAIT_MS = 20;
/** Decrypted endpoint secrets kept (by endpoint and ciphertext: a rolled secret is another entry). */
const SECRETS_KEPT = 1000;
/** Events fanned out into their deliveries per transaction. */
const FAN_OUT_BATCH = 100;
const FAN_OUT_WHILE_SERVING = 10;
/**
 * While requests are being served (one arrived within `SERVING_WINDOW_MS`), the worker's share of the
 * event loop at most (background-pacer.ts): after each piece of its work it rests nineteen times as long as
 * the piece took, up to `LONGEST_REST_MS`, so that a request seldom finds the loop busy with it (issue
 * 15: delivery never slows the API). While no request comes, it runs flat out.
 */
const SHARE_WHILE_SERVING = 0.05;
const SERVING_WINDOW_MS = 100;
const LONGEST_REST_MS = 200;
/**
 * What one attempt costs the loop beyond the piece that starts it (the send's socket and parser
 * callbacks, the record of the attempt), until the pacer has learned it on this machine: about 0.7
 * to 0.9 ms for a loopback receiver on the machine of docs/benchmarks.md.
 */
const ATTEMPT_COST_MS = 1;

/**
 * Delivers the webhook outbox, off the request path: a timer polls for events waiting for their
 * deliveries, which it writes (one per subscribed endpoint, `fanOutEvents`), and for due deliveries (a read),
 * leases a batch no larger than the free send slots (`claimDue`: one instance per attempt, also with
 * several instances on one PostgreSQL), signs each as Standard Webhooks and sends it, then records the
 * attempt and the next step in one transaction. A slow or dead receiver holds only its own send slot.
 * An instance that dies mid-send leaves its lease to expire; the delivery is then sent again with the
 * same `webhook-id` (at least once).
 */
export function createDeliveryWorker(deps: DeliveryWorkerDeps): DeliveryWorker {
  const sender: WebhookSender = createWebhookSender({ timeoutMs: deps.settings.timeoutMs, allowPrivateTargets: deps.settings.allowPrivateTargets });
  const schedule = deps.settings.retryScheduleSeconds;
  const inFlight = new Set<Promise<void>>();
  let timer: NodeJS.Timeout | null = null;
  let ticking = false;
  let stopped = true;
  let prunedAt = 0;

  const pacer = createBackgroundPacer({
    requestsSeen: deps.requestsSeen,
    share: SHARE_WHILE_SERVING,
    servingWindowMs: SERVING_WINDOW_MS,
    longestRestMs: LONGEST_REST_MS,
    initialUnitCostMs: ATTEMPT_COST_MS,
  });
  /** Ends a piece of work begun at `startedAt` (performance.now()) that started `attempts` sends, with the rest it owes. */
  async function pace(startedAt: number, attempts = 0): Promise<void> {
    const restMs = pacer.rest(startedAt, attempts);
    if (restMs > 0) await sleep(restMs);
  }

  function scheduleTick(delayMs: number): void {
    if (stopped) return;
    timer = setTimeout(() => void tick(), Math.max(delayMs, pacer.restUntil() - performance.now()));
    timer.unref();
  }

  async function tick(): Promise<void> {
    if (ticking || stopped) return;
    ticking = true;
    let claimedFull = false;
    // Every piece of work below is followed by its rest while requests are served (`pace`), which
    // counts the loop time of the send it started, if any (`attempts`).
    let startedAt = performance.now();
    let attempts = 0;
    try {
      // First the events changes wrote since the last poll: their deliveries, one per endpoint, are
      // written here rather than in the change's own transaction (a read first: no write lock for nothing).
      if (await deps.store.webhooks.hasEventsToFanOut()) {
        for (;;) {
          const limit = pacer.serving() ? FAN_OUT_WHILE_SERVING : FAN_OUT_BATCH;
          const fanned = await deps.store.transaction((tx) => fanOutEvents(tx, deps.ids, limit));
          await pace(startedAt);
          startedAt = performance.now();
          if (fanned < limit || stopped) break;
        }
      }
      const free = deps.settings.concurrency - inFlight.size;
      const now = deps.clock.now();
      if (free > 0 && !stopped && (await deps.store.webhooks.hasDue(now))) {
        const leaseUntil = new Date(now.getTime() + deps.settings.timeoutMs + LEASE_MARGIN_MS);
        const claimed = await deps.store.webhooks.claimDue(now, free, leaseUntil, randomBytes(12).toString('base64url'));
        claimedFull = claimed.length === free;
        for (const delivery of claimed) {
          await pace(startedAt, attempts);
          // Stopped while resting: what is left stays leased and is sent once the lease ends (at least once).
          if (stopped) break;
          startedAt = performance.now();
          attempts = 1;
          track(deliver(delivery));
        }
      }
      if (now.getTime() - prunedAt >= PRUNE_EVERY_MS) {
        const pruned = await deps.store.webhooks.pruneFinished(new Date(now.getTime() - WEBHOOK_LOG_RETENTION_MS), PRUNE_BATCH);
        // A full batch: more may be waiting, so prune again at the next poll rather than in an hour.
        prunedAt = pruned === PRUNE_BATCH ? 0 : now.getTime();
      }
    } catch (err) {
      deps.onError(err, 'webhook delivery poll failed; retrying');
    } finally {
      ticking = false;
      pacer.rest(startedAt, attempts);
      scheduleTick(claimedFull ? 0 : POLL_MS);
    }
  }

  function track(work: Promise<void>): void {
    inFlight.add(work);
    void work.finally(() => {
      inFlight.delete(work);
      // A free slot: look for more at once (or once rested) rather than at the next poll.
      if (!stopped && !ticking && timer) {
        clearTimeout(timer);
        scheduleTick(0);
      }
    });
  }

  async function deliver(delivery: ClaimedWebhookDelivery): Promise<void> {
    try {
      const at = deps.clock.now();
      const outcome = await sender.send(delivery.url, headersFor(delivery, at), delivery.payload);
      if (stopped && outcome.statusCode === null && outcome.error?.startsWith('The server stopped')) return; // leased: retried later
      await record(delivery, at, outcome);
    } catch (err) {
      deps.onError(err, 'webhook delivery failed to record; it is retried once its lease ends');
    }
  }

  /** Endpoint secrets decrypted once, not once per delivery (a burst signs thousands with a few). */
  const secrets = new Map<string, ReturnType<typeof decryptWebhookSecret>>();
  function secretOf(delivery: ClaimedWebhookDelivery, encrypted: string): ReturnType<typeof decryptWebhookSecret> {
    const name = `${delivery.endpointId}\u0000${encrypted}`;
    let secret = secrets.get(name);
    if (secret === undefined) {
      secret = decryptWebhookSecret(deps.encryptionKey, delivery.orgId, delivery.endpointId, encrypted);
      if (secrets.size >= SECRETS_KEPT) secrets.clear();
      secrets.set(name, secret);
    }
    return secret;
  }

  function headersFor(delivery: ClaimedWebhookDelivery, at: Date): Record<string, string> {
    const secrets = [secretOf(delivery, delivery.secretEncrypted)];
    if (delivery.previousSecretEncrypted && delivery.previousSecretExpiresAt && delivery.previousSecretExpiresAt.getTime() > at.getTime()) {
      secrets.push(secretOf(delivery, delivery.previousSecretEncrypted));
    }
    // The timestamp is the attempt's, not the event's: a late retry is not "too old" for the receiver.
    const timestamp = Math.floor(at.getTime() / 1000);
    return {
      'webhook-id': delivery.eventId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signWebhook(secrets, delivery.eventId, timestamp, delivery.payload),
    };
  }

  /** Finished attempts waiting to be recorded, written together (see `flushRecords`). */
  const pendingRecords: { delivery: ClaimedWebhookDelivery; at: Date; outcome: SendOutcome; done: (err?: unknown) => void }[] = [];
  let flushTimer: NodeJS.Timeout | null = null;

  /**
   * Records an attempt. Attempts that finish close together are written in one transaction: on
   * SQLite each commit is an fsync that holds the single writer (and, on the server's thread, the
   * event loop) for milliseconds, so one per attempt would slow the API down while a burst goes out.
   * Resolves once written (the send slot is free only then).
   */
  function record(delivery: ClaimedWebhookDelivery, at: Date, outcome: SendOutcome): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      pendingRecords.push({ delivery, at, outcome, done: (err) => (err === undefined ? resolve() : reject(err)) });
      flushSoon();
    });
  }

  /** Plans the next flush: at once for a full transaction, after `RECORD_WAIT_MS` otherwise, never before the worker's rest ends. */
  function flushSoon(): void {
    if (pendingRecords.length === 0) return;
    const full = pendingRecords.length >= recordsPerTransaction();
    const restMs = pacer.restUntil() - performance.now();
    if (full && restMs <= 0) {
      void flushRecords();
      return;
    }
    if (flushTimer && !full) return;
    if (flushTimer) clearTimeout(flushTimer);
    flushTimer = setTimeout(() => void flushRecords(), Math.max(full ? 0 : RECORD_WAIT_MS, restMs));
  }

  async function flushRecords(): Promise<void> {
    if (flushTimer) clearTimeout(flushTimer);
    flushTimer = null;
    const batch = pendingRecords.splice(0, recordsPerTransaction());
    if (batch.length === 0) return;
    const outcomes: ('succeeded' | 'retrying' | 'failed')[] = [];
    const startedAt = performance.now();
    try {
      await deps.store.transaction(async (tx) => {
        outcomes.length = 0;
        for (const { delivery, at, outcome } of batch) outcomes.push(await recordIn(tx, delivery, at, outcome));
      });
    } catch (err) {
      // None of the batch is recorded: each delivery is sent again once its lease ends (at least once).
      for (const { done } of batch) done(err);
      pacer.rest(startedAt);
      pacer.finished(batch.length);
      flushSoon();
      return;
    }
    // Recorded is done (the metrics count it, the send slot is free); the rest delays only what comes next.
    pacer.rest(startedAt);
    pacer.finished(batch.length);
    for (const outcome of outcomes) deps.onAttempt?.(outcome);
    for (const { done } of batch) done();
    // What did not fit in this transaction goes in the next.
    flushSoon();
  }

  function recordsPerTransaction(): number {
    return pacer.serving() ? RECORDS_WHILE_SERVING : RECORDS_PER_TRANSACTION;
  }

  async function recordIn(
    tx: Repositories,
    delivery: ClaimedWebhookDelivery,
    at: Date,
    outcome: SendOutcome,
  ): Promise<'succeeded' | 'retrying' | 'failed'> {
    const succeeded = outcome.error === null;
    const gone = outcome.statusCode === 410;
    const next = nextStep(delivery, succeeded || gone, at, outcome.retryAfterSeconds);
    const status = succeeded ? 'succeeded' : next ? 'pending' : 'failed';
    const finishedAt = deps.clock.now();
    const { statusCode, durationMs, error, responseExcerpt } = outcome;
    const attempt = { number: delivery.attemptCount + 1, at, statusCode, durationMs, error, responseExcerpt };
    const recorded = await tx.webhooks.finishAttempt(delivery.id, delivery.leaseToken, attempt, {
      status,
      nextAttemptAt: status === 'pending' ? next!.at : null,
      retriesLeft: status === 'pending' ? next!.retriesLeft : delivery.retriesLeft,
    });
    const counted = status === 'pending' ? 'retrying' : status;
    if (!recorded) return counted;
    const endpoint = await tx.webhooks.findEndpoint(delivery.orgId, delivery.endpointId);
    if (!endpoint) return counted;
    let patch: Omit<WebhookEndpointPatch, 'updatedAt'> | null = null;
    if (succeeded) {
      if (endpoint.failingSince) patch = { failingSince: null };
    } else if (gone) {
      patch = { enabled: false, disabledReason: `Disabled at ${finishedAt.toISOString()}: the endpoint answered 410 Gone.` };
    } else if (!endpoint.failingSince) {
      patch = { failingSince: at };
    } else if (endpoint.enabled && at.getTime() - endpoint.failingSince.getTime() >= WEBHOOK_DISABLE_AFTER_MS) {
      patch = {
        enabled: false,
        disabledReason: `Disabled at ${finishedAt.toISOString()}: every delivery attempt failed for 5 days, since ${endpoint.failingSince.toISOString()}.`,
      };
    }
    if (patch) await tx.webhooks.updateEndpoint(delivery.orgId, delivery.endpointId, { ...patch, updatedAt: finishedAt });
    return counted;
  }

  /** When to try again after a failed attempt, or null when the delivery has failed for good. */
  function nextStep(
    delivery: ClaimedWebhookDelivery,
    final: boolean,
    at: Date,
    retryAfterSeconds: number | null,
  ): { at: Date; retriesLeft: number | null } | null {
    if (final) return null;
    // A receiver asking for time (429, 503 with Retry-After) gets it, up to a day, but no more attempts.
    const wait = (delaySeconds: number) => new Date(at.getTime() + Math.max(withJitter(delaySeconds * 1000), Math.min(retryAfterSeconds ?? 0, 86_400) * 1000));
    if (delivery.retriesLeft !== null) {
      // A manual retry is one attempt.
      if (delivery.retriesLeft <= 0) return null;
      return { at: wait(schedule[0] ?? 5), retriesLeft: delivery.retriesLeft - 1 };
    }
    const delaySeconds = schedule[delivery.attemptCount];
    if (delaySeconds === undefined) return null;
    return { at: wait(delaySeconds), retriesLeft: null };
  }

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      scheduleTick(0);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (inFlight.size > 0) {
        let grace: NodeJS.Timeout | undefined;
        await Promise.race([Promise.allSettled([...inFlight]), new Promise((resolve) => (grace = setTimeout(resolve, STOP_GRACE_MS)))]);
        clearTimeout(grace);
        sender.abortAll();
        await Promise.allSettled([...inFlight]);
      }
      sender.close();
    },
  };
}

/** Up to 10% more on waits of a minute or longer, so many endpoints failing together do not retry in step. */
function withJitter(delayMs: number): number {
  if (delayMs < 60_000) return delayMs;
  return delayMs + Math.floor((randomBytes(2).readUInt16BE(0) / 65536) * delayMs * 0.1);
}
