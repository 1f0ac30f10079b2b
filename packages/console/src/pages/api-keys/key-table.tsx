import type { ApiKey } from '@keyward/wire';
import type { ReactNode } from 'react';
import { Link, useNavigate } from 'react-router';
import { ArrowDownIcon, ArrowUpIcon, MoreIcon } from '../../components/icons';
import { MenuButton, type MenuItem } from '../../components/menu';
import { Badge, ErrorAlert, SkeletonRows, StatusBadge } from '../../components/ui';
import { useDirectory, type Directory } from '../../lib/directory';
import { formatDate, formatDateTime, formatNumber, formatRelative, plural } from '../../lib/format';
import { canManageKey, describePermissions, describeScope, revocationReasonLabel, typeLabels, type KeySort, type SortField } from '../../lib/keys';
import { useSession } from '../../lib/session';
import { ExpiringBadge, isExpiringSoon } from './expiring-badge';
import { limitsNearFull } from './limits-model';
import { PolicyBadge } from './policy-badge';

export interface KeyTableProps {
  readonly keys: readonly ApiKey[] | undefined;
  readonly loading: boolean;
  readonly error: unknown;
  readonly onRetry: () => void;
  readonly onAction: (kind: 'edit' | 'roll' | 'revoke', key: ApiKey) => void;
  readonly empty: ReactNode;
  readonly caption: string;
  /** With both, the name and date headers sort the list (the API's `sort`). */
  readonly sort?: KeySort;
  readonly onSort?: (field: SortField) => void;
  /** Only revoked keys are listed: the date column is the revocation's, which the API does not sort by. */
  readonly revokedOnly?: boolean;
}

const COLUMNS = 8;

/**
 * A sortable column header: a button inside the `th`, whose `aria-sort` tells the direction; the arrow
 * shows it to everyone else. Without `onSort`, a plain header.
 */
function SortHeader({ field, label, sort, onSort, className }: { field: SortField; label: string; sort?: KeySort | undefined; onSort?: ((field: SortField) => void) | undefined; className?: string }) {
  if (!sort || !onSort) {
    return (
      <th scope="col" className={className}>
        {label}
      </th>
    );
  }
  const active = sort.field === field;
  const direction = active ? (sort.descending ? 'descending' : 'ascending') : undefined;
  return (
    <th scope="col" className={`${className ?? ''} sortable${active ? ' sorted' : ''}`.trim()} aria-sort={direction ?? 'none'}>
      <button type="button" className="sort-button" onClick={() => onSort(field)} title={active ? `Sorted ${direction}; click to reverse` : `Sort by ${label.toLowerCase()}`}>
        {label}
        <span className="sort-arrow" aria-hidden="true">
          {active ? sort.descending ? <ArrowDownIcon width={12} height={12} /> : <ArrowUpIcon width={12} height={12} /> : null}
        </span>
      </button>
    </th>
  );
}

/** Who a personal key belongs to (admins see every member's keys), or what else holds it. */
function holderOf(key: ApiKey, directory: Directory): string | null {
  if (key.keyType === 'personal') return key.ownerUserId ? directory.memberLabel(key.ownerUserId) : null;
  return null;
}

/**
 * Created (by whom, for admins), or, for a revoked key, when it was revoked and why. Where only revoked
 * keys are listed, the reason has a column of its own (`revokedOnly`) and this cell holds the date.
 */
function DateCell({ apiKey, showCreator, revokedOnly }: { apiKey: ApiKey; showCreator: boolean; revokedOnly: boolean }) {
  const directory = useDirectory();
  const creator = apiKey.createdByUserId ? directory.memberLabel(apiKey.createdByUserId) : apiKey.createdByKeyId ? 'an API key' : null;
  const created = `Created ${formatDateTime(apiKey.createdAt)}${creator ? ` by ${creator}` : ''}`;
  if (apiKey.revokedAt) {
    const reason = revocationReasonLabel(apiKey.revokedReason);
    return (
      <td className="cell-date col-optional" title={`Revoked ${formatDateTime(apiKey.revokedAt)}\nReason: ${reason}\n${created}`} data-testid="revocation">
        <span className="cell-line">{formatDate(apiKey.revokedAt)}</span>
        {revokedOnly ? null : <span className="cell-sub">Revoked: {reason}</span>}
      </td>
    );
  }
  return (
    <td className="cell-date col-optional" title={created}>
      <span className="cell-nowrap">{formatDate(apiKey.createdAt)}</span>
      {showCreator && creator ? <span className="cell-sub">by {creator}</span> : null}
    </td>
  );
}

/** Credits left (when the key has credits) and a hint when a rate limit's current window is nearly used. */
function LimitBadges({ apiKey }: { apiKey: ApiKey }) {
  const near = limitsNearFull(apiKey);
  const credits = apiKey.credits;
  return (
    <>
      {credits ? (
        <span className="cell-sub" data-testid="credits-badge">
          <Badge tone={credits.remaining === 0 ? 'danger' : 'neutral'} title={credits.refill ? `Refilled to ${formatNumber(credits.refill.amount)} every ${credits.refill.interval} (UTC)` : 'No refill'}>
            {credits.remaining === 0 ? 'No credits left' : plural(credits.remaining, 'credit')}
          </Badge>
        </span>
      ) : null}
      {near.length ? (
        <span className="cell-sub">
          <Badge tone="warning" title={`At 80% or more of its current window: ${near.join(', ')}`}>
            Near its rate limit
          </Badge>
        </span>
      ) : null}
    </>
  );
}

export function KeyTable({ keys, loading, error, onRetry, onAction, empty, caption, sort, onSort, revokedOnly }: KeyTableProps) {
  const session = useSession();
  const directory = useDirectory();
  const navigate = useNavigate();
  const isAdmin = session.isAdmin;

  if (error) return <ErrorAlert error={error} title="The keys could not be loaded" onRetry={onRetry} />;
  if (!loading && keys && keys.length === 0) return <>{empty}</>;

  return (
    <div className="table-wrap">
      <table className="table keys-table" aria-busy={loading || undefined}>
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <SortHeader field="name" label="Name" sort={sort} onSort={onSort} />
            <th scope="col" className="col-type">
              Type
            </th>
            <th scope="col" className="col-status">
              Status
            </th>
            <th scope="col" className="col-access">
              Access
            </th>
            {revokedOnly ? (
              <th scope="col" className="col-date col-optional">
                Revoked
              </th>
            ) : (
              <SortHeader field="createdAt" label="Created" sort={sort} onSort={onSort} className="col-date col-optional" />
            )}
            <SortHeader field="lastUsedAt" label="Last used" sort={sort} onSort={onSort} className="col-used" />
            {revokedOnly ? (
              <th scope="col" className="col-reason">
                Reason
              </th>
            ) : (
              <SortHeader field="expiresAt" label="Expires" sort={sort} onSort={onSort} className="col-expires col-optional" />
            )}
            <th scope="col" className="col-actions">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {loading && !keys ? (
            <SkeletonRows columns={COLUMNS} />
          ) : (
            keys?.map((key) => {
              const scope = describeScope(key, directory);
              const permissions = describePermissions(key);
              const manageable = canManageKey(session, key) && key.status !== 'revoked';
              const reason = key.status === 'revoked' ? 'Revoked keys cannot change' : 'Only its owner or an admin';
              const holder = isAdmin ? holderOf(key, directory) : null;
              const items: MenuItem[] = [
                { label: 'View details', onSelect: () => navigate(`/settings/api-keys/${key.id}`) },
                { label: 'Edit', onSelect: () => onAction('edit', key), disabled: !manageable, hint: manageable ? undefined : reason },
                { label: 'Roll', onSelect: () => onAction('roll', key), disabled: !manageable, hint: manageable ? undefined : reason },
                { label: 'Revoke', onSelect: () => onAction('revoke', key), danger: true, disabled: !manageable, hint: manageable ? undefined : reason },
              ];
              return (
                <tr key={key.id} data-key-id={key.id}>
                  <td className="cell-name">
                    <Link to={`/settings/api-keys/${key.id}`} className="row-link" title={[key.name, key.description].filter(Boolean).join('\n')}>
                      {key.name}
                    </Link>
                    <code className="preview cell-sub">{key.preview}</code>
                  </td>
                  <td className="cell-type">
                    <Badge tone={key.keyType === 'service' ? 'accent' : key.keyType === 'project' ? 'info' : 'neutral'}>{typeLabels[key.keyType]}</Badge>
                    {holder ? (
                      <span className="cell-sub" title={`Owner: ${holder}`}>
                        {holder}
                      </span>
                    ) : null}
                  </td>
                  <td className="cell-status">
                    <StatusBadge status={key.status} />
                    {isExpiringSoon(key) ? (
                      <span className="cell-sub">
                        <ExpiringBadge apiKey={key} />
                      </span>
                    ) : null}
                    {key.policyViolations?.length && key.status !== 'revoked' ? (
                      <span className="cell-sub">
                        <PolicyBadge apiKey={key} />
                      </span>
                    ) : null}
                    {key.status !== 'revoked' ? <LimitBadges apiKey={key} /> : null}
                  </td>
                  <td className="cell-access" title={`${scope.detail}\n${permissions.detail}`}>
                    <span className="cell-line">{scope.text}</span>
                    <span className="cell-sub">{permissions.text}</span>
                  </td>
                  <DateCell apiKey={key} showCreator={isAdmin} revokedOnly={Boolean(revokedOnly)} />
                  <td className="cell-nowrap cell-clip" title={key.lastUsedAt ? formatDateTime(key.lastUsedAt) : undefined}>
                    {key.lastUsedAt ? formatRelative(key.lastUsedAt) : <span className="muted">Never</span>}
                  </td>
                  {revokedOnly ? (
                    <td className="cell-reason" title={revocationReasonLabel(key.revokedReason)}>
                      <span className="cell-clamp" data-testid="revoked-reason">
                        {revocationReasonLabel(key.revokedReason)}
                      </span>
                    </td>
                  ) : (
                    <td className="cell-nowrap cell-clip col-optional" title={key.expiresAt ? formatDateTime(key.expiresAt) : 'Does not expire'}>
                      {key.expiresAt ? formatDate(key.expiresAt) : <span className="muted">Never</span>}
                    </td>
                  )}
                  <td className="cell-actions">
                    <MenuButton label={`Actions for ${key.name}`} items={items}>
                      <MoreIcon />
                    </MenuButton>
                  </td>
                </tr>
              );
            })
          )}
        </tbody>
      </table>
    </div>
  );
}
