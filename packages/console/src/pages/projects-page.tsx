import type { Project } from '@keyward/wire';
import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { FolderIcon, PlusIcon } from '../components/icons';
import { NameDialog } from '../components/name-dialog';
import { useToast } from '../components/toast';
import { Badge, EmptyState, ErrorAlert, Field, PageHeader, SkeletonRows, usePageTitle } from '../components/ui';
import { api } from '../lib/api';
import { useDirectory } from '../lib/directory';
import { formatDate } from '../lib/format';
import { useSession } from '../lib/session';
import { useApi } from '../lib/use-api';

export function ProjectsPage() {
  usePageTitle('Projects');
  const session = useSession();
  const directory = useDirectory();
  const toast = useToast();
  const navigate = useNavigate();
  const [showArchived, setShowArchived] = useState(false);
  const projects = useApi<{ data: Project[] }>(`/api/projects?limit=100&includeArchived=${showArchived}`);
  const [creating, setCreating] = useState(false);
  const [teamId, setTeamId] = useState('');
  const list = projects.data?.data;
  const createButton = session.isAdmin ? (
    <button type="button" className="button button-primary" onClick={() => setCreating(true)}>
      <PlusIcon />
      Create project
    </button>
  ) : undefined;

  return (
    <>
      <PageHeader title="Projects" description="Projects are where your product’s resources live. Keys can be scoped to projects; admins create legacy project keys on a project’s page." actions={createButton} />
      <div className="toolbar">
        <label className="check-row inline">
          <input type="checkbox" checked={showArchived} onChange={(e) => setShowArchived(e.target.checked)} />
          <span>Show archived projects</span>
        </label>
      </div>
      {projects.error ? (
        <ErrorAlert error={projects.error} title="Projects could not be loaded" onRetry={projects.reload} />
      ) : list && list.length === 0 ? (
        <EmptyState icon={<FolderIcon width={24} height={24} />} title={showArchived ? 'No projects' : 'No active projects'} action={createButton}>
          {session.isAdmin ? 'Create a project to scope keys to it.' : 'Owners and admins create projects.'}
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">Projects</caption>
            <thead>
              <tr>
                <th scope="col">Project</th>
                <th scope="col">Team</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
                <th scope="col">Id</th>
              </tr>
            </thead>
            <tbody>
              {!list ? (
                <SkeletonRows columns={5} rows={3} />
              ) : (
                list.map((project) => (
                  <tr key={project.id}>
                    <td>
                      <Link to={`/settings/projects/${project.id}`} className="row-link">
                        {project.name}
                      </Link>
                    </td>
                    <td>{project.teamId ? directory.teamName(project.teamId) : <span className="muted">None</span>}</td>
                    <td>{project.archivedAt ? <Badge>Archived</Badge> : <Badge tone="success">Active</Badge>}</td>
                    <td>{formatDate(project.createdAt)}</td>
                    <td>
                      <code className="muted">{project.id}</code>
                    </td>
                  </tr>
                ))
              )}
            </tbody>
          </table>
        </div>
      )}
      {creating ? (
        <NameDialog
          title="Create project"
          label="Project name"
          submitLabel="Create project"
          onCancel={() => setCreating(false)}
          onSubmit={async (name) => {
            const answer = await api.post<{ project: Project }>('/api/projects', { name, ...(teamId ? { teamId } : {}) });
            setCreating(false);
            directory.reload();
            toast(`Created project ${name}.`);
            navigate(`/settings/projects/${answer.project.id}`);
          }}
        >
          <Field label="Team" optional hint="Keys scoped to the team reach its projects.">
            {({ id, describedBy }) => (
              <select id={id} className="select" value={teamId} aria-describedby={describedBy} onChange={(e) => setTeamId(e.target.value)}>
                <option value="">No team</option>
                {directory.teams.map((t) => (
                  <option key={t.id} value={t.id}>
                    {t.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
        </NameDialog>
      ) : null}
    </>
  );
}
