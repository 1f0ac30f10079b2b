import type { ApiKey, AuditEntry } from '@keyward/wire';
import { useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { ChevronLeftIcon, ChevronRightIcon, ListIcon } from '../components/icons';
import { AdminOnly, Badge, EmptyState, ErrorAlert, PageHeader, SkeletonRows, usePageTitle } from '../components/ui';
import { query } from '../lib/api';
import { useDirectory } from '../lib/directory';
import { formatDateTime, formatRelative } from '../lib/format';
import { useSession } from '../lib/session';
import { useApi } from '../lib/use-api';

const knownActions = [
  'api_key.created',
  'api_key.updated',
  'api_key.rolled',
  'api_key.revoked',
  'api_key.leaked',
  'api_key.credits_changed',
  'authorization.denied',
  'member.invited',
  'member.joined',
  'member.role_changed',
  'member.removed',
  'team.created',
  'team.updated',
  'project.created',
  'project.updated',
  'role_binding.created',
  'role_binding.deleted',
  'organization.created',
  'organization.bootstrapped',
  'signing_key.rotated',
  'signing_key.emergency_rotated',
  'organization.token_settings_updated',
  'organization.policy_updated',
];

const outcomeTone = { success: 'success', denied: 'warning', failure: 'danger' } as const;

export function AuditLogPage() {
  usePageTitle('Audit log');
  const session = useSession();
  return (
    <>
      <PageHeader title="Audit log" description="Every change in the organization and every denied attempt, newest first." />
      {session.isAdmin ? <AuditLog /> : <AdminOnly role={session.role} />}
    </>
  );
}

function AuditLog() {
  const [params, setParams] = useSearchParams();
  const directory = useDirectory();
  const actorId = params.get('actorId') ?? '';
  const action = params.get('action') ?? '';
  const targetId = params.get('targetId') ?? '';
  const [actionInput, setActionInput] = useState(action);
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors[cursors.length - 1] ?? null;
  const log = useApi<{ data: AuditEntry[]; nextCursor: string | null }>(`/api/audit-log${query({ actorId, action, targetId, limit: 50, cursor })}`, { keepPrevious: true });
  const keys = useApi<{ data: ApiKey[] }>('/api/api-keys?status=all&limit=100');
  const keyById = new Map((keys.data?.data ?? []).map((k) => [k.id as string, k]));

  function update(changes: Record<string, string>) {
    const next = new URLSearchParams(params);
    for (const [name, value] of Object.entries(changes)) {
      if (value) next.set(name, value);
      else next.delete(name);
    }
    setCursors([null]);
    setParams(next, { replace: true });
  }

  function targetLabel(entry: AuditEntry) {
    const id = entry.targetId;
    if (!id) return <span className="muted">—</span>;
    if (entry.targetType === 'api_key') {
      const key = keyById.get(id);
      return <Link to={`/settings/api-keys/${id}`}>{key ? key.name : id}</Link>;
    }
    if (entry.targetType === 'member' || entry.targetType === 'user') return directory.memberLabel(id);
    if (entry.targetType === 'project') return <Link to={`/settings/projects/${id}`}>{directory.projectName(id)}</Link>;
    if (entry.targetType === 'team') return directory.teamName(id);
    return <code>{id}</code>;
  }

  function actorLabel(entry: AuditEntry) {
    const { actor } = entry;
    if (actor.type === 'user') return directory.memberLabel(actor.id);
    if (actor.type === 'api_key' || actor.type === 'access_token') {
      const key = keyById.get(actor.id);
      return (
        <>
          <Link to={`/settings/api-keys/${actor.id}`}>{key?.name ?? actor.preview ?? actor.id}</Link>
          <span className="muted"> ({actor.type === 'api_key' ? 'key' : 'token'})</span>
        </>
      );
    }
    if (actor.type === 'leak_report') return <span className="muted">{actor.id === 'github_secret_scanning' ? 'Leak report (GitHub secret scanning)' : 'Leak report'}</span>;
    // Entries written before leak reports had their own actor type (issue 15) say system / leak_report.
    if (actor.type === 'system') return <span className="muted">{actor.id === 'leak_report' ? 'Leak report' : 'Keyward (operator command)'}</span>;
    return <span className="muted">{actor.type}</span>;
  }

  const entries = log.data?.data;
  const filtered = actorId || action || targetId;
  return (
    <>
      <div className="toolbar" role="search" aria-label="Filter the audit log">
        <div className="toolbar-filters">
          <select className="select" aria-label="Actor" value={actorId} onChange={(event) => update({ actorId: event.target.value })}>
            <option value="">Any actor</option>
            {directory.members.map((m) => (
              <option key={m.userId} value={m.userId}>
                {m.email}
              </option>
            ))}
            {actorId && !directory.members.some((m) => m.userId === actorId) ? <option value={actorId}>{actorId}</option> : null}
          </select>
          <input
            className="input"
            list="audit-actions"
            aria-label="Action"
            placeholder="Any action"
            value={actionInput}
            onChange={(event) => {
              setActionInput(event.target.value);
              if (event.target.value === '' || knownActions.includes(event.target.value)) update({ action: event.target.value });
            }}
            onKeyDown={(event) => {
              if (event.key === 'Enter') update({ action: actionInput.trim() });
            }}
            onBlur={() => actionInput.trim() !== action && update({ action: actionInput.trim() })}
          />
          <datalist id="audit-actions">
            {knownActions.map((a) => (
              <option key={a} value={a} />
            ))}
          </datalist>
          <select className="select" aria-label="Key" value={targetId} onChange={(event) => update({ targetId: event.target.value })}>
            <option value="">Any key or target</option>
            {(keys.data?.data ?? []).map((k) => (
              <option key={k.id} value={k.id}>
                {k.name} ({k.preview})
              </option>
            ))}
            {targetId && !keyById.has(targetId) ? <option value={targetId}>{targetId}</option> : null}
          </select>
          {filtered ? (
            <button
              type="button"
              className="button button-ghost button-small"
              onClick={() => {
                setActionInput('');
                update({ actorId: '', action: '', targetId: '' });
              }}
            >
              Clear filters
            </button>
          ) : null}
        </div>
      </div>
      {log.error ? (
        <ErrorAlert error={log.error} title="The audit log could not be loaded" onRetry={log.reload} />
      ) : entries && entries.length === 0 ? (
        <EmptyState icon={<ListIcon width={24} height={24} />} title={filtered ? 'No entries match these filters' : 'No entries yet'} />
      ) : (
        <div className="table-wrap">
          <table className="table table-dense audit-table" aria-busy={log.loading || undefined}>
            <caption className="visually-hidden">Audit log entries</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Actor</th>
                <th scope="col">Action</th>
                <th scope="col">Target</th>
                <th scope="col">Outcome</th>
                <th scope="col">IP</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {!entries ? (
                <SkeletonRows columns={7} />
              ) : (
                entries.map((entry) => (
                  <tr key={entry.id}>
                    <td className="cell-nowrap" title={formatDateTime(entry.at)}>
                      {formatRelative(entry.at)}
                    </td>
                    <td className="cell-truncate">{actorLabel(entry)}</td>
                    <td>
                      <code>{entry.action}</code>
                    </td>
                    <td className="cell-truncate">{targetLabel(entry)}</td>
                    <td>
                      <Badge tone={outcomeTone[entry.outcome]}>{entry.outcome}</Badge>
                    </td>
                    <td className="cell-nowrap mono">{entry.ip ?? '—'}</td>
                    <td>
                      {Object.keys(entry.details).length > 0 ? (
                        <details className="inline-details">
                          <summary>Show</summary>
                          <pre className="code-block">{JSON.stringify(entry.details, null, 2)}</pre>
                        </details>
                      ) : (
                        <span className="muted">—</span>
                      )}
                    </td>
                  </tr>
                ))
              )}
            </tbody>
          </table>
        </div>
      )}
      {entries && (cursors.length > 1 || log.data?.nextCursor) ? (
        <nav className="pager" aria-label="Pages">
          <button type="button" className="button button-secondary button-small" disabled={cursors.length <= 1} onClick={() => setCursors(cursors.slice(0, -1))}>
            <ChevronLeftIcon />
            Newer
          </button>
          <span className="muted">Page {cursors.length}</span>
          <button
            type="button"
            className="button button-secondary button-small"
            disabled={!log.data?.nextCursor}
            onClick={() => log.data?.nextCursor && setCursors([...cursors, log.data.nextCursor])}
          >
            Older
            <ChevronRightIcon />
          </button>
        </nav>
      ) : null}
    </>
  );
}
