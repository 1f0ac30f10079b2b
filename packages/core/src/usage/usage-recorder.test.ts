import { describe, expect, it } from 'vitest';
import type { KeyId, OrgId } from '../ids.js';
import type { Store, UsageWriter } from '../ports.js';
import { transactionalUsageWriter } from './transactional-usage-writer.js';
import { LAST_USED_RESOLUTION_MS, UsageRecorder } from './usage-recorder.js';
import type { UsageIncrement } from './usage.js';

const org = 'org_a' as OrgId;
const keyA = 'key_a' as KeyId;
const keyB = 'key_b' as KeyId;

/** A store that keeps what the recorder writes, and fails on demand. */
function recordingStore() {
  const written = { increments: [] as UsageIncrement[], touches: [] as { keyId: KeyId; at: Date }[], transactions: 0 };
  let failNext = false;
  const store = {
    async transaction<T>(work: (tx: Store) => Promise<T>): Promise<T> {
      if (failNext) {
        failNext = false;
        throw new Error('database unavailable');
      }
      written.transactions++;
      const tx = {
        usage: { add: async (increments: UsageIncrement[]) => void written.increments.push(...increments) },
        keys: { touchLastUsed: async (touches: { keyId: KeyId; at: Date }[]) => void written.touches.push(...touches) },
      } as unknown as Store;
      return work(tx);
    },
  };
  return { store, written, failNextTransaction: () => (failNext = true) };
}

const total = (increments: UsageIncrement[], keyId: KeyId) =>
  increments.filter((i) => i.keyId === keyId).reduce((sum, i) => ({ valid: sum.valid + i.valid, rejected: sum.rejected + i.rejected }), { valid: 0, rejected: 0 });

describe('UsageRecorder', () => {
  it('writes every count once, in one transaction per flush, with rejections by code', async () => {
    const { store, written } = recordingStore();
    const recorder = new UsageRecorder(transactionalUsageWriter(store));
    const t0 = Date.UTC(2026, 0, 1, 12, 0, 30);
    for (let i = 0; i < 5; i++) recorder.record(org, keyA, 'VALID', new Date(t0 + i));
    recorder.record(org, keyA, 'REVOKED', new Date(t0));
    recorder.record(org, keyA, 'IP_NOT_ALLOWED', new Date(t0 + 40_000)); // the next minute
    await recorder.flush();
    expect(written.transactions).toBe(1);
    expect(total(written.increments, keyA)).toEqual({ valid: 5, rejected: 2 });
    expect(written.increments.map((i) => i.minuteStart.getTime()).sort()).toEqual([Date.UTC(2026, 0, 1, 12, 0), Date.UTC(2026, 0, 1, 12, 1)]);
    await recorder.flush();
    expect(written.transactions).toBe(1); // nothing new, nothing written
  });

  it('puts the counts of a failed flush back, so the next flush writes them once', async () => {
    const { store, written, failNextTransaction } = recordingStore();
    const recorder = new UsageRecorder(transactionalUsageWriter(store));
    recorder.record(org, keyA, 'VALID', new Date(0));
    failNextTransaction();
    await expect(recorder.flush()).rejects.toThrow('database unavailable');
    recorder.record(org, keyA, 'VALID', new Date(1));
    await recorder.flush();
    expect(total(written.increments, keyA)).toEqual({ valid: 2, rejected: 0 });
    expect(written.touches).toEqual([{ keyId: keyA, at: new Date(1) }]);
  });

  it('writes a big flush in small transactions, and after one fails writes only what it and the rest held, once', async () => {
    const { store, written, failNextTransaction } = recordingStore();
    const recorder = new UsageRecorder(transactionalUsageWriter(store, { rowsPerTransaction: 2, pause: async () => failAfterFirst() }), { maxBufferedEntries: 100 });
    let pauses = 0;
    const failAfterFirst = () => {
      if (pauses++ === 0) failNextTransaction();
    };
    const keys = ['key_1', 'key_2', 'key_3', 'key_4', 'key_5'] as KeyId[];
    for (const keyId of keys) recorder.record(org, keyId, 'REVOKED', new Date(0));
    await expect(recorder.flush()).rejects.toThrow('database unavailable');
    expect(written.transactions).toBe(1);
    expect(written.increments.map((i) => i.keyId)).toEqual(['key_1', 'key_2']);
    await recorder.flush();
    expect(written.increments.map((i) => i.keyId).sort()).toEqual(keys);
    expect(written.transactions).toBe(3);
  });

  it('writes lastUsedAt once per key per resolution interval, keeps the latest use pending, and writes it all on the final flush', async () => {
    const { store, written } = recordingStore();
    const recorder = new UsageRecorder(transactionalUsageWriter(store));
    recorder.record(org, keyA, 'VALID', new Date(1_000));
    recorder.record(org, keyB, 'REVOKED', new Date(1_000)); // rejected uses never set lastUsedAt
    await recorder.flush();
    expect(written.touches).toEqual([{ keyId: keyA, at: new Date(1_000) }]);

    recorder.record(org, keyA, 'VALID', new Date(5_000));
    await recorder.flush();
    expect(written.touches).toHaveLength(1); // not due: still pending
    expect(total(written.increments, keyA).valid).toBe(2); // counts are not throttled

    recorder.record(org, keyA, 'VALID', new Date(1_000 + LAST_USED_RESOLUTION_MS));
    await recorder.flush();
    expect(written.touches.at(-1)).toEqual({ keyId: keyA, at: new Date(1_000 + LAST_USED_RESOLUTION_MS) });

    recorder.record(org, keyA, 'VALID', new Date(2_000 + LAST_USED_RESOLUTION_MS));
    await recorder.flush({ final: true });
    expect(written.touches.at(-1)).toEqual({ keyId: keyA, at: new Date(2_000 + LAST_USED_RESOLUTION_MS) });
    expect(written.touches.some((t) => t.keyId === keyB)).toBe(false);
  });

  it("writes the latest use of a key counted over several minutes as its lastUsedAt, and gives a failed flush's back", async () => {
    const { store, written, failNextTransaction } = recordingStore();
    const recorder = new UsageRecorder(transactionalUsageWriter(store));
    recorder.record(org, keyA, 'VALID', new Date(70_000));
    recorder.record(org, keyA, 'VALID', new Date(10_000)); // an earlier minute, counted later
    recorder.record(org, keyA, 'REVOKED', new Date(90_000));
    failNextTransaction();
    await expect(recorder.flush()).rejects.toThrow('database unavailable');
    expect(written.touches).toEqual([]);
    await recorder.flush();
    expect(written.touches).toEqual([{ keyId: keyA, at: new Date(70_000) }]);
    expect(total(written.increments, keyA)).toEqual({ valid: 2, rejected: 1 });
  });

  it('never holds the event loop for the whole of a big flush: a timer due during it runs before it ends', async () => {
    const writer: UsageWriter = { write: async (_batch, written) => written(_batch.increments.length, _batch.touches.length, _batch.spends.length), close: async () => {} };
    const recorder = new UsageRecorder(writer, { maxBufferedEntries: 100_000, rowsPerSlice: 100 });
    for (let i = 0; i < 5_000; i++) recorder.record(org, `key_${i}` as KeyId, 'VALID', 1_000);
    const order: string[] = [];
    setImmediate(() => order.push('other work'));
    await recorder.flush().then(() => order.push('flushed'));
    expect(order).toEqual(['other work', 'flushed']);
  });

  it('still holds back a lastUsedAt written just before the recorder forgot the older ones', async () => {
    const { store, written } = recordingStore();
    const recorder = new UsageRecorder(transactionalUsageWriter(store));
    const t0 = 1_000;
    recorder.record(org, keyA, 'VALID', t0);
    await recorder.flush();
    // A flush more than the resolution later: keyB is written, the generation of writes turns over.
    recorder.record(org, keyB, 'VALID', t0 + LAST_USED_RESOLUTION_MS + 10);
    await recorder.flush();
    recorder.record(org, keyB, 'VALID', t0 + LAST_USED_RESOLUTION_MS + 20);
    recorder.record(org, keyA, 'VALID', t0 + LAST_USED_RESOLUTION_MS + 20);
    await recorder.flush();
    // keyB was written 10 ms before: not due; keyA a resolution before: due.
    expect(written.touches.map((t) => [t.keyId, t.at.getTime() - t0])).toEqual([
      [keyA, 0],
      [keyB, LAST_USED_RESOLUTION_MS + 10],
      [keyA, LAST_USED_RESOLUTION_MS + 20],
    ]);
    // Two resolutions on, both are written again.
    recorder.record(org, keyB, 'VALID', t0 + 2 * LAST_USED_RESOLUTION_MS + 30);
    await recorder.flush();
    expect(written.touches.at(-1)).toEqual({ keyId: keyB, at: new Date(t0 + 2 * LAST_USED_RESOLUTION_MS + 30) });
  });
});
