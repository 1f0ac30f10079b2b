import type { CoreDeps } from '../deps.js';
import { loadPolicy } from '../policy/manage-policy.js';
import { recordEvent } from '../webhooks/record-event.js';
import { apiKeyPayload } from './public-api-key.js';

/** A reminder of a key's expiry: a week before, a day before, and once it has passed. */
export type ExpiryStage = '7d' | '1d' | 'expired';

const DAY_MS = 86_400_000;

/**
 * How long after a key expired its `api_key.expired` event is still sent: an instance that was down
 * catches up on a week, and keys that expired long before (before reminders existed, say) stay quiet.
 */
export const EXPIRED_EVENT_WINDOW_MS = 7 * DAY_MS;

/** Keys per query while sending reminders. */
const BATCH = 200;

/** The expiry dates each stage is about at `now`: each key is in at most one of them. */
export function expiryStages(now: Date): { stage: ExpiryStage; after: Date; until: Date }[] {
  const at = now.getTime();
  return [
    { stage: 'expired', after: new Date(at - EXPIRED_EVENT_WINDOW_MS), until: now },
    { stage: '1d', after: now, until: new Date(at + DAY_MS) },
    { stage: '7d', after: new Date(at + DAY_MS), until: new Date(at + 7 * DAY_MS) },
  ];
}

/** Who sends reminders, as events name them. */
const ACTOR = { type: 'system', id: 'expiry_reminders' } as const;

/**
 * Sends every reminder due at the clock's now: `api_key.expiring` once when a live key's expiry is
 * within 7 days and once within a day (only the nearer one for a key that is already within a day),
 * and `api_key.expired` once it has passed (within `EXPIRED_EVENT_WINDOW_MS`). Each reminder is
 * claimed by a row in the same transaction as its event, so it is sent once, whichever instance
 * runs this and however often; a new `expiresAt` gets reminders of its own. Revoked and disabled keys
 * get none. Returns how many reminders this call sent.
 */
export async function sendExpiryReminders(deps: Pick<CoreDeps, 'store' | 'clock' | 'ids'>): Promise<number> {
  const now = deps.clock.now();
  let sent = 0;
  for (const { stage, after, until } of expiryStages(now)) {
    for (;;) {
      const keys = await deps.store.expiryNotices.due(stage, after, until, BATCH);
      for (const key of keys) {
        const claimed = await deps.store.transaction(async (tx) => {
          if (!(await tx.expiryNotices.claim({ keyId: key.id, orgId: key.orgId, stage, expiresAt: key.expiresAt!, sentAt: now }))) return false;
          // The key as the API shows it (its policy violations included), and which reminder this is;
          // read only when some endpoint wants the event.
          const data = async () => ({
            apiKey: apiKeyPayload(key, now, await loadPolicy(tx, key.orgId)),
            actor: ACTOR,
            ...(stage === 'expired' ? {} : { reminder: stage }),
          });
          await recordEvent(tx, deps.ids, now, key.orgId, stage === 'expired' ? 'api_key.expired' : 'api_key.expiring', data);
          return true;
        });
        if (claimed) sent++;
      }
      if (keys.length < BATCH) break;
    }
  }
  return sent;
}
