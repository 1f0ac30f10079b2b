import type { CoreDeps } from '../deps.js';
import type { ApiKeyRecord } from '../keys/api-key.js';
import { keyEventData, recordEvent } from '../webhooks/record-event.js';

/**
 * `api_key.credits_exhausted`: a verification spent the key's last credit. Written to the outbox in a
 * transaction of its own (the spending itself is written later, with the usage flush); the event's
 * key shows 0 remaining. The actor is the verification: `{ type: "verification", id: <key id> }`.
 */
export async function reportCreditsExhausted(deps: Pick<CoreDeps, 'store' | 'ids' | 'clock'>, key: ApiKeyRecord): Promise<void> {
  const now = deps.clock.now();
  const exhausted: ApiKeyRecord = key.credits ? { ...key, credits: { ...key.credits, remaining: 0 } } : key;
  await deps.store.transaction((tx) => recordEvent(tx, deps.ids, now, key.orgId, 'api_key.credits_exhausted', keyEventData(exhausted, { type: 'verification', id: key.id }, now)));
}
