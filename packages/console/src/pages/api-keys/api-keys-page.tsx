import type { ApiKey } from '@keyward/wire';
import { useEffect, useRef, useState } from 'react';
import { useSearchParams } from 'react-router';
import { ChevronLeftIcon, ChevronRightIcon, KeyIcon, PlusIcon, SearchIcon } from '../../components/icons';
import { EmptyState, PageHeader, usePageTitle } from '../../components/ui';
import { query } from '../../lib/api';
import { useDirectory } from '../../lib/directory';
import { statusFilters, type StatusFilter } from '../../lib/keys';
import { useSession } from '../../lib/session';
import { useApi } from '../../lib/use-api';
import { BootstrapStep } from './bootstrap-step';
import { CreateKeyDialog } from './create-key-dialog';
import { useKeyActions } from './key-actions';
import { KeyTable } from './key-table';

const PAGE_SIZE = 25;
const statusLabels: Record<StatusFilter, string> = { active: 'Active', expired: 'Expired', revoked: 'Revoked', disabled: 'Disabled', all: 'All' };

export function ApiKeysPage() {
  usePageTitle('API Keys');
  const session = useSession();
  if (!session.organization.bootstrapped) {
    return (
      <>
        <PageHeader title="API Keys" description="Keys let scripts, services and assistants call the API as your organization." />
        <BootstrapStep />
      </>
    );
  }
  return <KeysList />;
}

function KeysList() {
  const [params, setParams] = useSearchParams();
  const status = (statusFilters as readonly string[]).includes(params.get('status') ?? '') ? (params.get('status') as StatusFilter) : 'active';
  const q = params.get('q') ?? '';
  const keyType = params.get('type') ?? '';
  const [search, setSearch] = useState(q);
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [creating, setCreating] = useState(false);
  const directory = useDirectory();
  const cursor = cursors[cursors.length - 1] ?? null;
  const path = `/api/api-keys${query({ status, q, keyType, limit: PAGE_SIZE, cursor })}`;
  const list = useApi<{ data: ApiKey[]; nextCursor: string | null }>(path, { keepPrevious: true });
  const { open, showSecret, dialogs } = useKeyActions(() => {
    list.reload();
  });
  const createButton = useRef<HTMLButtonElement>(null);

  // Typing filters after a short pause; the address keeps the filters (shareable, back button).
  useEffect(() => {
    if (search === q) return;
    const timer = window.setTimeout(() => update({ q: search }), 250);
    return () => window.clearTimeout(timer);
  }, [search]);

  function update(changes: Record<string, string>) {
    const next = new URLSearchParams(params);
    for (const [name, value] of Object.entries(changes)) {
      if (value && !(name === 'status' && value === 'active')) next.set(name, value);
      else next.delete(name);
    }
    setCursors([null]);
    setParams(next, { replace: true });
  }

  const filtered = q !== '' || keyType !== '' || status !== 'active';
  const keys = list.data?.data;
  return (
    <>
      <PageHeader
        title="API Keys"
        description="Keys let scripts, services and assistants call the API as your organization. A key’s secret is shown once, when you create it."
        actions={
          <button ref={createButton} type="button" className="button button-primary" onClick={() => setCreating(true)}>
            <PlusIcon />
            Create API key
          </button>
        }
      />
      <div className="toolbar" role="search" aria-label="Filter keys">
        <div className="segmented" role="group" aria-label="Status">
          {statusFilters.map((value) => (
            <button key={value} type="button" className="segment" aria-pressed={status === value} onClick={() => update({ status: value })}>
              {statusLabels[value]}
            </button>
          ))}
        </div>
        <div className="toolbar-right">
          <div className="search">
            <SearchIcon />
            <input
              className="input"
              type="search"
              placeholder="Search by name"
              aria-label="Search keys by name"
              value={search}
              onChange={(event) => setSearch(event.target.value)}
              onKeyDown={(event) => {
                if (event.key === 'Enter') update({ q: search });
              }}
            />
          </div>
          <select className="select" aria-label="Key type" value={keyType} onChange={(event) => update({ type: event.target.value })}>
            <option value="">All types</option>
            <option value="personal">Personal</option>
            <option value="service">Service</option>
            <option value="project">Project</option>
          </select>
        </div>
      </div>
      <KeyTable
        caption={`${statusLabels[status]} API keys`}
        keys={keys}
        loading={list.loading}
        error={list.error}
        onRetry={list.reload}
        onAction={open}
        empty={
          filtered ? (
            <EmptyState
              icon={<SearchIcon width={24} height={24} />}
              title={`No ${status === 'all' ? '' : statusLabels[status].toLowerCase() + ' '}keys${q ? ` matching “${q}”` : ''}`}
              action={
                <button
                  type="button"
                  className="button button-secondary"
                  onClick={() => {
                    setSearch('');
                    update({ q: '', type: '', status: '' });
                  }}
                >
                  Clear filters
                </button>
              }
            >
              Try another status, type or name.
            </EmptyState>
          ) : (
            <EmptyState
              icon={<KeyIcon width={24} height={24} />}
              title="No API keys yet"
              action={
                <button type="button" className="button button-primary" onClick={() => setCreating(true)}>
                  <PlusIcon />
                  Create API key
                </button>
              }
            >
              Create a key for a script, a CI pipeline or your AI assistant. You choose what it may do, from where, and for how long.
            </EmptyState>
          )
        }
      />
      {keys && (cursors.length > 1 || list.data?.nextCursor) ? (
        <nav className="pager" aria-label="Pages">
          <button type="button" className="button button-secondary button-small" disabled={cursors.length <= 1} onClick={() => setCursors(cursors.slice(0, -1))}>
            <ChevronLeftIcon />
            Previous
          </button>
          <span className="muted">Page {cursors.length}</span>
          <button
            type="button"
            className="button button-secondary button-small"
            disabled={!list.data?.nextCursor}
            onClick={() => list.data?.nextCursor && setCursors([...cursors, list.data.nextCursor])}
          >
            Next
            <ChevronRightIcon />
          </button>
        </nav>
      ) : null}
      {directory.catalogue ? (
        <p className="page-footnote">
          Keys start with <code>{directory.catalogue.keyPrefix}</code>. Send one as <code>Authorization: Bearer &lt;key&gt;</code> or <code>x-api-key</code>.
          Secret scanners can find leaked keys with the pattern <code>{directory.catalogue.keyPattern}</code>.
        </p>
      ) : null}
      {creating ? (
        <CreateKeyDialog
          onCancel={() => setCreating(false)}
          onCreated={(answer) => {
            setCreating(false);
            showSecret({ token: answer.token, apiKey: answer.apiKey, warnings: answer.warnings, rolled: false });
            if (status !== 'active' || q || keyType) update({ status: '', q: '', type: '' });
            else list.reload();
          }}
        />
      ) : null}
      {dialogs}
    </>
  );
}
