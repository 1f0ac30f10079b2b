import type { ApiKey, Project } from '@keyward/wire';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { BindingsEditor } from '../components/bindings-editor';
import { ChevronLeftIcon, KeyIcon, PlusIcon } from '../components/icons';
import { Modal } from '../components/modal';
import { NameDialog } from '../components/name-dialog';
import { useToast } from '../components/toast';
import { Badge, EmptyState, ErrorAlert, LoadingBlock, PageHeader, usePageTitle } from '../components/ui';
import { api, ApiError } from '../lib/api';
import { useDirectory } from '../lib/directory';
import { formatDateTime } from '../lib/format';
import { useSession } from '../lib/session';
import { useApi } from '../lib/use-api';
import { CreateKeyDialog } from './api-keys/create-key-dialog';
import { useKeyActions } from './api-keys/key-actions';
import { KeyTable } from './api-keys/key-table';

export function ProjectDetailPage() {
  const { id = '' } = useParams();
  const session = useSession();
  const directory = useDirectory();
  const toast = useToast();
  const project = useApi<{ project: Project }>(`/api/projects/${encodeURIComponent(id)}`);
  const [open, setOpen] = useState<'rename' | 'archive' | 'key' | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  usePageTitle(project.data?.project.name ?? 'Project');

  const back = (
    <Link to="/settings/projects" className="back-link">
      <ChevronLeftIcon />
      Projects
    </Link>
  );
  if (project.error) {
    const missing = project.error instanceof ApiError && project.error.status === 404;
    return (
      <>
        {back}
        <PageHeader title={missing ? 'Project not found' : 'Project'} />
        {missing ? <EmptyState title="There is no project with this id." /> : <ErrorAlert error={project.error} onRetry={project.reload} />}
      </>
    );
  }
  if (!project.data) {
    return (
      <>
        {back}
        <PageHeader title={<span className="skeleton skeleton-title" aria-label="Loading" />} />
        <LoadingBlock height={320} />
      </>
    );
  }
  const p = project.data.project;

  async function update(body: Record<string, unknown>, message: string) {
    setBusy(true);
    setError(null);
    try {
      await api.patch(`/api/projects/${encodeURIComponent(p.id)}`, body);
      project.reload();
      directory.reload();
      toast(message);
      setOpen(null);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      {back}
      <PageHeader
        title={
          <>
            {p.name} {p.archivedAt ? <Badge>Archived</Badge> : null}
          </>
        }
        actions={
          session.isAdmin ? (
            <>
              <button type="button" className="button button-secondary" onClick={() => setOpen('rename')}>
                Rename
              </button>
              {p.archivedAt ? (
                <button type="button" className="button button-secondary" disabled={busy} onClick={() => void update({ archived: false }, `Restored ${p.name}.`)}>
                  Restore
                </button>
              ) : (
                <button type="button" className="button button-danger-outline" onClick={() => setOpen('archive')}>
                  Archive
                </button>
              )}
            </>
          ) : undefined
        }
      />
      {error && open === null ? <ErrorAlert error={error} /> : null}
      <div className="detail-grid">
        <section className="card" aria-labelledby="project-details">
          <h2 id="project-details" className="card-title">
            Details
          </h2>
          <dl className="facts">
            <div>
              <dt>Id</dt>
              <dd>
                <code>{p.id}</code>
              </dd>
            </div>
            <div>
              <dt>Team</dt>
              <dd>
                {session.isAdmin ? (
                  <select
                    className="select"
                    aria-label="Team"
                    value={p.teamId ?? ''}
                    disabled={busy}
                    onChange={(e) => void update({ teamId: e.target.value || null }, 'Moved the project.')}
                  >
                    <option value="">No team</option>
                    {directory.teams.map((t) => (
                      <option key={t.id} value={t.id}>
                        {t.name}
                      </option>
                    ))}
                  </select>
                ) : p.teamId ? (
                  directory.teamName(p.teamId)
                ) : (
                  'None'
                )}
              </dd>
            </div>
            <div>
              <dt>Created</dt>
              <dd>{formatDateTime(p.createdAt)}</dd>
            </div>
            {p.archivedAt ? (
              <div>
                <dt>Archived</dt>
                <dd>{formatDateTime(p.archivedAt)}</dd>
              </div>
            ) : null}
          </dl>
        </section>
        <section className="card" aria-labelledby="project-people">
          <h2 id="project-people" className="card-title">
            People
          </h2>
          <BindingsEditor scopeType="PROJECT" scopeId={p.id} scopeName={p.name} />
        </section>
      </div>
      {session.isAdmin ? <ProjectKeys project={p} onCreate={() => setOpen('key')} creating={open === 'key'} onCloseCreate={() => setOpen(null)} /> : null}
      {open === 'rename' ? (
        <NameDialog
          title={`Rename ${p.name}`}
          label="Project name"
          initial={p.name}
          submitLabel="Rename"
          onCancel={() => setOpen(null)}
          onSubmit={async (name) => {
            await api.patch(`/api/projects/${encodeURIComponent(p.id)}`, { name });
            project.reload();
            directory.reload();
            toast(`Renamed to ${name}.`);
            setOpen(null);
          }}
        />
      ) : null}
      {open === 'archive' ? (
        <Modal
          role="alertdialog"
          size="small"
          title={`Archive ${p.name}?`}
          description="An archived project cannot get new keys or bindings. Existing keys are not revoked. You can restore it later."
          onDismiss={() => setOpen(null)}
          footer={
            <>
              <button type="button" className="button button-secondary" onClick={() => setOpen(null)} data-autofocus>
                Cancel
              </button>
              <button type="button" className="button button-danger" disabled={busy} onClick={() => void update({ archived: true }, `Archived ${p.name}.`)}>
                Archive project
              </button>
            </>
          }
        >
          {error ? <ErrorAlert error={error} /> : <p className="muted">{p.id}</p>}
        </Modal>
      ) : null}
    </>
  );
}

function ProjectKeys({ project, onCreate, creating, onCloseCreate }: { project: Project; onCreate: () => void; creating: boolean; onCloseCreate: () => void }) {
  const keys = useApi<{ data: ApiKey[]; nextCursor: string | null }>(`/api/api-keys?projectId=${encodeURIComponent(project.id)}&status=all&limit=100`);
  const { open, showSecret, dialogs } = useKeyActions(keys.reload);
  const mine = keys.data?.data;
  return (
    <section className="section" aria-labelledby="project-keys">
      <div className="section-header">
        <div>
          <h2 id="project-keys" className="card-title">
            Project keys
          </h2>
          <p className="muted">Legacy keys that carry this project: callers send them without a project id. Prefer personal or service keys for new work.</p>
        </div>
        <button type="button" className="button button-secondary" onClick={onCreate} disabled={Boolean(project.archivedAt)} title={project.archivedAt ? 'Archived projects get no new keys' : undefined}>
          <PlusIcon />
          Create project key
        </button>
      </div>
      <KeyTable
        caption={`Project keys of ${project.name}`}
        keys={mine}
        loading={keys.loading}
        error={keys.error}
        onRetry={keys.reload}
        onAction={open}
        empty={<EmptyState icon={<KeyIcon width={24} height={24} />} title="No project keys" />}
      />
      {keys.data?.nextCursor ? <p className="muted">Showing the newest 100 project keys of this project.</p> : null}
      {creating ? (
        <CreateKeyDialog
          projectId={project.id}
          onCancel={onCloseCreate}
          onCreated={(answer) => {
            onCloseCreate();
            keys.reload();
            showSecret({ token: answer.token, apiKey: answer.apiKey, warnings: answer.warnings, rolled: false });
          }}
        />
      ) : null}
      {dialogs}
    </section>
  );
}
