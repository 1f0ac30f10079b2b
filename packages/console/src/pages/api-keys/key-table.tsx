import type { ApiKey } from '@keyward/wire';
import type { ReactNode } from 'react';
import { Link, useNavigate } from 'react-router';
import { MoreIcon } from '../../components/icons';
import { MenuButton, type MenuItem } from '../../components/menu';
import { Badge, ErrorAlert, SkeletonRows, StatusBadge } from '../../components/ui';
import { useDirectory } from '../../lib/directory';
import { formatDate, formatDateTime, formatRelative } from '../../lib/format';
import { canManageKey, describePermissions, describeScope, typeLabels } from '../../lib/keys';
import { useSession } from '../../lib/session';

export interface KeyTableProps {
  readonly keys: readonly ApiKey[] | undefined;
  readonly loading: boolean;
  readonly error: unknown;
  readonly onRetry: () => void;
  readonly onAction: (kind: 'edit' | 'roll' | 'revoke', key: ApiKey) => void;
  readonly empty: ReactNode;
  readonly caption: string;
}

export function KeyTable({ keys, loading, error, onRetry, onAction, empty, caption }: KeyTableProps) {
  const session = useSession();
  const directory = useDirectory();
  const navigate = useNavigate();
  const showCreatedBy = session.isAdmin;
  const columns = showCreatedBy ? 9 : 8;

  if (error) return <ErrorAlert error={error} title="The keys could not be loaded" onRetry={onRetry} />;
  if (!loading && keys && keys.length === 0) return <>{empty}</>;

  return (
    <div className="table-wrap">
      <table className="table keys-table" aria-busy={loading || undefined}>
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Type</th>
            <th scope="col">Status</th>
            <th scope="col">Scope</th>
            <th scope="col">Permissions</th>
            <th scope="col" className="col-optional">
              Created
            </th>
            <th scope="col">Last used</th>
            {showCreatedBy ? (
              <th scope="col" className="col-narrow-optional">
                Created by
              </th>
            ) : null}
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {loading && !keys ? (
            <SkeletonRows columns={columns} />
          ) : (
            keys?.map((key) => {
              const scope = describeScope(key, directory);
              const permissions = describePermissions(key);
              const manageable = canManageKey(session, key) && key.status !== 'revoked';
              const reason = key.status === 'revoked' ? 'Revoked keys cannot change' : 'Only its owner or an admin';
              const items: MenuItem[] = [
                { label: 'View details', onSelect: () => navigate(`/settings/api-keys/${key.id}`) },
                { label: 'Edit', onSelect: () => onAction('edit', key), disabled: !manageable, hint: manageable ? undefined : reason },
                { label: 'Roll', onSelect: () => onAction('roll', key), disabled: !manageable, hint: manageable ? undefined : reason },
                { label: 'Revoke', onSelect: () => onAction('revoke', key), danger: true, disabled: !manageable, hint: manageable ? undefined : reason },
              ];
              return (
                <tr key={key.id} data-key-id={key.id}>
                  <td className="cell-name">
                    <Link
                      to={`/settings/api-keys/${key.id}`}
                      className="row-link"
                      title={[key.description, `Created ${formatDateTime(key.createdAt)}${key.createdByUserId ? ` by ${directory.memberLabel(key.createdByUserId)}` : ''}`].filter(Boolean).join('\n')}
                    >
                      {key.name}
                    </Link>
                    <code className="preview cell-sub" title={key.description ?? undefined}>
                      {key.preview}
                    </code>
                  </td>
                  <td>
                    <Badge tone={key.keyType === 'service' ? 'accent' : key.keyType === 'project' ? 'info' : 'neutral'}>{typeLabels[key.keyType]}</Badge>
                  </td>
                  <td>
                    <StatusBadge status={key.status} />
                  </td>
                  <td className="cell-truncate" title={scope.detail}>
                    {scope.text}
                  </td>
                  <td className="cell-truncate" title={permissions.detail}>
                    {permissions.text}
                  </td>
                  <td className="cell-nowrap col-optional" title={formatDateTime(key.createdAt)}>
                    {formatDate(key.createdAt)}
                  </td>
                  <td className="cell-nowrap" title={key.lastUsedAt ? formatDateTime(key.lastUsedAt) : undefined}>
                    {key.lastUsedAt ? formatRelative(key.lastUsedAt) : <span className="muted">Never</span>}
                  </td>
                  {showCreatedBy ? (
                    <td className="cell-truncate col-narrow-optional" title={directory.memberLabel(key.createdByUserId)}>
                      {key.createdByUserId ? directory.memberLabel(key.createdByUserId) : key.createdByKeyId ? 'An API key' : '—'}
                    </td>
                  ) : null}
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
