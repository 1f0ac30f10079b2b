import type { ApiKey, CatalogueResponse } from '@keyward/wire';
import { useEffect, useRef, useState } from 'react';
import { useSearchParams } from 'react-router';
import { ChevronLeftIcon, ChevronRightIcon, KeyIcon, PlusIcon, SearchIcon } from '../../components/icons';
import { EmptyState, PageHeader, usePageTitle } from '../../components/ui';
import { query } from '../../lib/api';
import { useDirectory } from '../../lib/directory';
import { memberName, nextSort, parseSort, sortParam, statusFilters, type SortField, type StatusFilter } from '../../lib/keys';
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

/** A whole key as pasted: this deployment's key pattern (or, before the catalogue is loaded, its shape). */
function looksLikeKey(text: string, catalogue: CatalogueResponse | null): boolean {
  if (catalogue) {
    try {
      if (new RegExp(catalogue.keyPattern).test(text)) return true;
    } catch {
      // a pattern this browser cannot compile: fall back to the shape below
    }
  }
  return /^[A-Za-z0-9]+_[A-Za-z0-9_]{30,}$/.test(text);
}

function KeysList() {
  const session = useSession();
  const [params, setParams] = useSearchParams();
  const status = (statusFilters as readonly string[]).includes(params.get('status') ?? '') ? (params.get('status') as StatusFilter) : 'active';
  const keyType = params.get('type') ?? '';
  const owner = params.get('owner') ?? '';
  const sort = parseSort(params.get('sort'));
  const directory = useDirectory();
  // A whole pasted key is searched for (by its hash, server side) but never written into the address:
  // the address bar ends up in the history, bookmarks and shared links.
  const [pastedKey, setPastedKey] = useState<string | null>(null);
  const q = pastedKey ?? params.get('q') ?? '';
  const [search, setSearch] = useState(q);
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [creating, setCreating] = useState(false);
  const cursor = cursors[cursors.length - 1] ?? null;
  const path = `/api/api-keys${query({ status, q, keyType, ownerUserId: owner, sort: sort.field === 'createdAt' && sort.descending ? undefined : sortParam(sort), limit: PAGE_SIZE, cursor })}`;
  const list = useApi<{ data: ApiKey[]; nextCursor: string | null }>(path, { keepPrevious: true });
  const { open, showSecret, dialogs } = useKeyActions(() => {
    list.reload();
  });
  const createButton = useRef<HTMLButtonElement>(null);

  // Typing filters after a short pause; the address keeps the filters (shareable, back button).
  useEffect(() => {
    if (search.trim() === q) return;
    const timer = window.setTimeout(() => applySearch(search), 250);
    return () => window.clearTimeout(timer);
  }, [search]);

  function applySearch(text: string) {
    const term = text.trim();
    if (looksLikeKey(term, directory.catalogue)) {
      setPastedKey(term);
      update({ q: '' });
    } else {
      setPastedKey(null);
      update({ q: term });
    }
  }

  function update(changes: Record<string, string>) {
    const next = new URLSearchParams(params);
    for (const [name, value] of Object.entries(changes)) {
      if (value && !(name === 'status' && value === 'active') && !(name === 'sort' && value === '-createdAt')) next.set(name, value);
      else next.delete(name);
    }
    setCursors([null]);
    setParams(next, { replace: true });
  }

  const filtered = q !== '' || keyType !== '' || owner !== '' || status !== 'active';
  const members = directory.members.filter((m) => m.status === 'active');
  const onSort = (field: SortField) => update({ sort: sortParam(nextSort(sort, field)) });
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
              className="input search-keys"
              type="search"
              placeholder="Name, id, last 4 or pasted key"
              aria-label="Search keys"
              aria-describedby="key-search-hint"
              title="Search by name (part of it), a key id, the last four characters of a key, or paste a whole key"
              autoComplete="off"
              spellCheck={false}
              value={search}
              onChange={(event) => setSearch(event.target.value)}
              onKeyDown={(event) => {
                if (event.key === 'Enter') applySearch(search);
              }}
            />
            <span id="key-search-hint" className="visually-hidden">
              Accepts a name or part of one, a key id, the last four characters of a key, or a whole pasted key. A pasted key is looked up by its hash and is not kept in the address.
            </span>
          </div>
          {session.isAdmin ? (
            <select className="select select-owner" aria-label="Owner" value={owner} onChange={(event) => update({ owner: event.target.value })}>
              <option value="">All owners</option>
              {owner && !members.some((m) => m.userId === owner) ? <option value={owner}>{directory.memberLabel(owner)}</option> : null}
              {members.map((member) => (
                <option key={member.userId} value={member.userId}>
                  {memberName(member)}
                </option>
              ))}
            </select>
          ) : null}
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
        sort={sort}
        onSort={onSort}
        revokedOnly={status === 'revoked'}
        loading={list.loading}
        error={list.error}
        onRetry={list.reload}
        onAction={open}
        empty={
          filtered ? (
            <EmptyState
              icon={<SearchIcon width={24} height={24} />}
              title={`No ${status === 'all' ? '' : statusLabels[status].toLowerCase() + ' '}keys${pastedKey ? ' matching the pasted key' : q ? ` matching “${q}”` : ''}${owner ? ` of ${directory.memberLabel(owner)}` : ''}`}
              action={
                <button
                  type="button"
                  className="button button-secondary"
                  onClick={() => {
                    setSearch('');
                    setPastedKey(null);
                    update({ q: '', type: '', status: '', owner: '' });
                  }}
                >
                  Clear filters
                </button>
              }
            >
              Try another status, type, owner or search.
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
            if (status !== 'active' || q || keyType || owner) {
              setSearch('');
              setPastedKey(null);
              update({ status: '', q: '', type: '', owner: '' });
            } else list.reload();
          }}
        />
      ) : null}
      {dialogs}
    </>
  );
}
