import type { Team } from '@keyward/wire';
import { useState } from 'react';
import { Link } from 'react-router';
import { BindingsEditor } from '../components/bindings-editor';
import { PlusIcon, TeamIcon } from '../components/icons';
import { Modal } from '../components/modal';
import { NameDialog } from '../components/name-dialog';
import { useToast } from '../components/toast';
import { EmptyState, ErrorAlert, PageHeader, SkeletonRows, usePageTitle } from '../components/ui';
import { api } from '../lib/api';
import { useDirectory } from '../lib/directory';
import { formatDate } from '../lib/format';
import { useSession } from '../lib/session';
import { useApi } from '../lib/use-api';

type Open = { kind: 'create' } | { kind: 'rename'; team: Team } | { kind: 'people'; team: Team } | null;

export function TeamsPage() {
  usePageTitle('Teams');
  const session = useSession();
  const directory = useDirectory();
  const toast = useToast();
  const teams = useApi<{ data: Team[] }>('/api/teams?limit=100');
  const [open, setOpen] = useState<Open>(null);
  const close = () => setOpen(null);
  const done = (message: string) => {
    close();
    teams.reload();
    directory.reload();
    toast(message);
  };
  const list = teams.data?.data;
  const createButton = session.isAdmin ? (
    <button type="button" className="button button-primary" onClick={() => setOpen({ kind: 'create' })}>
      <PlusIcon />
      Create team
    </button>
  ) : undefined;

  return (
    <>
      <PageHeader title="Teams" description="Teams group projects and people. A key scoped to a team reaches the team’s projects." actions={createButton} />
      {teams.error ? (
        <ErrorAlert error={teams.error} title="Teams could not be loaded" onRetry={teams.reload} />
      ) : list && list.length === 0 ? (
        <EmptyState icon={<TeamIcon width={24} height={24} />} title="No teams yet" action={createButton}>
          {session.isAdmin ? 'Create a team, then give it projects and people.' : 'Owners and admins create teams.'}
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">Teams</caption>
            <thead>
              <tr>
                <th scope="col">Team</th>
                <th scope="col">Projects</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {!list ? (
                <SkeletonRows columns={4} rows={3} />
              ) : (
                list.map((team) => {
                  const projects = directory.projects.filter((p) => p.teamId === team.id && !p.archivedAt);
                  return (
                    <tr key={team.id}>
                      <td className="cell-strong">{team.name}</td>
                      <td>
                        {projects.length === 0 ? (
                          <span className="muted">None</span>
                        ) : (
                          projects.map((p, index) => (
                            <span key={p.id}>
                              {index > 0 ? ', ' : ''}
                              <Link to={`/settings/projects/${p.id}`}>{p.name}</Link>
                            </span>
                          ))
                        )}
                      </td>
                      <td>{formatDate(team.createdAt)}</td>
                      <td className="cell-actions">
                        <button type="button" className="button button-ghost button-small" onClick={() => setOpen({ kind: 'people', team })}>
                          People
                        </button>
                        {session.isAdmin ? (
                          <button type="button" className="button button-ghost button-small" onClick={() => setOpen({ kind: 'rename', team })} aria-label={`Rename ${team.name}`}>
                            Rename
                          </button>
                        ) : null}
                      </td>
                    </tr>
                  );
                })
              )}
            </tbody>
          </table>
        </div>
      )}
      {open?.kind === 'create' ? (
        <NameDialog
          title="Create team"
          label="Team name"
          submitLabel="Create team"
          onCancel={close}
          onSubmit={async (name) => {
            await api.post('/api/teams', { name });
            done(`Created team ${name}.`);
          }}
        />
      ) : null}
      {open?.kind === 'rename' ? (
        <NameDialog
          title={`Rename ${open.team.name}`}
          label="Team name"
          initial={open.team.name}
          submitLabel="Rename"
          onCancel={close}
          onSubmit={async (name) => {
            await api.patch(`/api/teams/${encodeURIComponent(open.team.id)}`, { name });
            done(`Renamed to ${name}.`);
          }}
        />
      ) : null}
      {open?.kind === 'people' ? (
        <Modal
          title={`People in ${open.team.name}`}
          description="Roles on this team apply to its projects, on top of each person’s organization role."
          onDismiss={close}
          footer={
            <button type="button" className="button button-secondary" onClick={close}>
              Close
            </button>
          }
        >
          <BindingsEditor scopeType="TEAM" scopeId={open.team.id} scopeName={open.team.name} />
        </Modal>
      ) : null}
    </>
  );
}
