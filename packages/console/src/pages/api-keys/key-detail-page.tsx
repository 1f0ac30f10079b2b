import type { ApiKey } from '@keyward/wire';
import type { ReactNode } from 'react';
import { Link, useParams } from 'react-router';
import { ChevronLeftIcon } from '../../components/icons';
import { UsagePanel } from '../../components/usage-panel';
import { Badge, EmptyState, ErrorAlert, LoadingBlock, PageHeader, StatusBadge, usePageTitle } from '../../components/ui';
import { ApiError } from '../../lib/api';
import { useDirectory } from '../../lib/directory';
import { formatDateTime, formatRelative, roleLabel } from '../../lib/format';
import { canManageKey, revocationReasonLabel, typeLabels } from '../../lib/keys';
import { useSession } from '../../lib/session';
import { useApi } from '../../lib/use-api';
import { ExpiringBadge } from './expiring-badge';
import { LimitsCard } from './limits-card';
import { PolicyBadge, PolicyViolationsAlert } from './policy-badge';
import { useKeyActions } from './key-actions';

export function KeyDetailPage() {
  const { id = '' } = useParams();
  const key = useApi<ApiKey>(`/api/api-keys/${encodeURIComponent(id)}`);
  const session = useSession();
  const { open, dialogs } = useKeyActions(key.reload);
  usePageTitle(key.data?.name ?? 'API key');

  const back = (
    <Link to="/settings/api-keys" className="back-link">
      <ChevronLeftIcon />
      API Keys
    </Link>
  );
  if (key.error) {
    const missing = key.error instanceof ApiError && key.error.status === 404;
    return (
      <>
        {back}
        <PageHeader title={missing ? 'Key not found' : 'API key'} />
        {missing ? (
          <EmptyState title="There is no key with this id that you may see." action={<Link to="/settings/api-keys" className="button button-secondary">Back to API Keys</Link>} />
        ) : (
          <ErrorAlert error={key.error} onRetry={key.reload} />
        )}
      </>
    );
  }
  if (!key.data) {
    return (
      <>
        {back}
        <PageHeader title={<span className="skeleton skeleton-title" aria-label="Loading" />} />
        <LoadingBlock height={420} />
      </>
    );
  }
  const apiKey = key.data;
  const manageable = canManageKey(session, apiKey) && apiKey.status !== 'revoked';
  return (
    <>
      {back}
      <PageHeader
        title={
          <>
            {apiKey.name} <StatusBadge status={apiKey.status} /> <ExpiringBadge apiKey={apiKey} /> {apiKey.status !== 'revoked' ? <PolicyBadge apiKey={apiKey} /> : null}
          </>
        }
        description={apiKey.description ?? undefined}
        actions={
          manageable ? (
            <>
              <button type="button" className="button button-secondary" onClick={() => open('edit', apiKey)}>
                Edit
              </button>
              <button type="button" className="button button-secondary" onClick={() => open('roll', apiKey)}>
                Roll
              </button>
              <button type="button" className="button button-danger-outline" onClick={() => open('revoke', apiKey)}>
                Revoke
              </button>
            </>
          ) : undefined
        }
      />
      <PolicyViolationsAlert apiKey={apiKey} />
      <div className="detail-grid">
        <DetailsCard apiKey={apiKey} />
        <AccessCard apiKey={apiKey} />
      </div>
      <LimitsCard apiKey={apiKey} refreshing={key.loading} onChanged={key.reload} />
      <UsagePanel path={`/api/api-keys/${encodeURIComponent(apiKey.id)}/usage`} title="Usage" />
      {session.isAdmin ? (
        <p className="page-footnote">
          <Link to={`/settings/audit-log?targetId=${encodeURIComponent(apiKey.id)}`}>See this key’s history in the audit log</Link>
        </p>
      ) : null}
      {dialogs}
    </>
  );
}

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function DetailsCard({ apiKey }: { apiKey: ApiKey }) {
  const directory = useDirectory();
  return (
    <section className="card" aria-labelledby="details-title">
      <h2 id="details-title" className="card-title">
        Details
      </h2>
      <dl className="facts">
        <Fact label="Key">
          <code className="preview">{apiKey.preview}</code>
        </Fact>
        <Fact label="Id">
          <code>{apiKey.id}</code>
        </Fact>
        <Fact label="Type">
          <Badge tone={apiKey.keyType === 'service' ? 'accent' : apiKey.keyType === 'project' ? 'info' : 'neutral'}>{typeLabels[apiKey.keyType]}</Badge>
        </Fact>
        {apiKey.keyType === 'personal' ? <Fact label="Owner">{directory.memberLabel(apiKey.ownerUserId)}</Fact> : null}
        <Fact label="Created">
          {formatDateTime(apiKey.createdAt)}
          {apiKey.createdByUserId ? ` by ${directory.memberLabel(apiKey.createdByUserId)}` : apiKey.createdByKeyId ? ' by an API key' : ''}
        </Fact>
        <Fact label="Last used">{apiKey.lastUsedAt ? <span title={formatDateTime(apiKey.lastUsedAt)}>{formatRelative(apiKey.lastUsedAt)}</span> : 'Never'}</Fact>
        <Fact label="Expires">{apiKey.expiresAt ? `${formatDateTime(apiKey.expiresAt)} (${formatRelative(apiKey.expiresAt)})` : 'Never'}</Fact>
        {apiKey.rollOverlapEndsAt ? <Fact label="Previous secret works until">{formatDateTime(apiKey.rollOverlapEndsAt)}</Fact> : null}
        {apiKey.revokedAt ? (
          <>
            <Fact label="Revoked">{formatDateTime(apiKey.revokedAt)}</Fact>
            <Fact label="Revocation reason">
              <span data-testid="revocation-reason">{revocationReasonLabel(apiKey.revokedReason)}</span>
            </Fact>
          </>
        ) : null}
      </dl>
    </section>
  );
}

function AccessCard({ apiKey }: { apiKey: ApiKey }) {
  const directory = useDirectory();
  return (
    <section className="card" aria-labelledby="access-title">
      <h2 id="access-title" className="card-title">
        Access
      </h2>
      <dl className="facts">
        <Fact label="Scope">
          {apiKey.keyType === 'project' && apiKey.projectId ? (
            <>Project {directory.projectName(apiKey.projectId)}</>
          ) : (
            <ul className="plain-list">
              {apiKey.bindings.map((b) => (
                <li key={`${b.scopeType}:${b.scopeId}`}>
                  {b.scopeType === 'ORGANIZATION' ? 'Organization' : b.scopeType === 'TEAM' ? `Team ${directory.teamName(b.scopeId)}` : `Project ${directory.projectName(b.scopeId)}`}{' '}
                  <span className="muted">as {roleLabel(b.role)}</span>
                </li>
              ))}
            </ul>
          )}
        </Fact>
        <Fact label="Permissions">
          {apiKey.permissionMode === 'all' ? (
            apiKey.keyType === 'personal' ? (
              'All: everything its owner may do at its scope'
            ) : (
              'All'
            )
          ) : (
            <ul className="chips" aria-label="Permissions">
              {apiKey.permissions.map((p) => (
                <li key={p} className="chip">
                  {p}
                </li>
              ))}
            </ul>
          )}
        </Fact>
        <Fact label="Scopes">
          {apiKey.scopes.length === 0 ? (
            <span className="muted">None: the permissions alone decide</span>
          ) : (
            <ul className="plain-list">
              {apiKey.scopes.map((s) => (
                <li key={`${s.action}:${s.resource}`}>
                  <code>{s.action}</code> on <code>{s.resource}</code>
                </li>
              ))}
            </ul>
          )}
        </Fact>
        <Fact label="Allowed IP ranges">
          {apiKey.allowedCidrs.length === 0 ? (
            <span className="muted">Any address</span>
          ) : (
            <ul className="chips">
              {apiKey.allowedCidrs.map((c) => (
                <li key={c} className="chip mono">
                  {c}
                </li>
              ))}
            </ul>
          )}
        </Fact>
      </dl>
    </section>
  );
}
