import type { ApiKey } from '@keyward/wire';
import { Badge } from '../../components/ui';
import { formatDateTime, formatRelative } from '../../lib/format';

/** Keys this close to their expiry are flagged in the key list and on the key's page. */
export const EXPIRING_SOON_DAYS = 7;

/** Whether a key still works but stops within `EXPIRING_SOON_DAYS` (issue 15). */
export function isExpiringSoon(key: Pick<ApiKey, 'status' | 'expiresAt'>, now = Date.now()): boolean {
  if (key.status !== 'active' || !key.expiresAt) return false;
  const left = new Date(key.expiresAt).getTime() - now;
  return left > 0 && left <= EXPIRING_SOON_DAYS * 86_400_000;
}

/**
 * "Expires in 3 days" beside the status of a key about to expire, so that someone rolls or replaces
 * it before scripts start failing. The words say it (not only the colour); the title gives the instant.
 */
export function ExpiringBadge({ apiKey }: { apiKey: Pick<ApiKey, 'status' | 'expiresAt'> }) {
  if (!isExpiringSoon(apiKey)) return null;
  return (
    <Badge tone="warning" title={`Expires ${formatDateTime(apiKey.expiresAt)}: roll or replace it before then`}>
      Expires {formatRelative(apiKey.expiresAt)}
    </Badge>
  );
}
