import type { InviteMemberResponse, Member, OrgRole } from '@keyward/wire';
import { useState } from 'react';
import { CopyField } from '../components/copy-field';
import { PlusIcon, UsersIcon } from '../components/icons';
import { Modal } from '../components/modal';
import { useToast } from '../components/toast';
import { Alert, Badge, EmptyState, ErrorAlert, Field, PageHeader, SkeletonRows, usePageTitle } from '../components/ui';
import { api, ApiError, errorMessage } from '../lib/api';
import { useDirectory } from '../lib/directory';
import { formatDate, formatDateTime, roleLabel } from '../lib/format';
import { useSession, useSessionContext } from '../lib/session';
import { useApi } from '../lib/use-api';

const roles: OrgRole[] = ['OWNER', 'ADMIN', 'MEMBER', 'VIEWER'];
const roleHints: Record<OrgRole, string> = {
  OWNER: 'Everything, including managing other owners.',
  ADMIN: 'Manages members, every API key, teams, projects and signing keys.',
  MEMBER: 'Reads and writes most areas; reads secrets, teams and projects. Creates personal keys within that.',
  VIEWER: 'Reads everything; creates read-only personal keys.',
};

export function MembersPage() {
  usePageTitle('Members');
  const session = useSession();
  const { refresh } = useSessionContext();
  const directory = useDirectory();
  const toast = useToast();
  const members = useApi<{ data: Member[]; nextCursor: string | null }>('/api/members?limit=100');
  const [inviting, setInviting] = useState(false);
  const [removing, setRemoving] = useState<Member | null>(null);
  const [pendingRole, setPendingRole] = useState<string | null>(null);

  const reload = () => {
    members.reload();
    directory.reload();
  };

  async function changeRole(member: Member, role: OrgRole) {
    setPendingRole(member.userId);
    try {
      await api.patch(`/api/members/${encodeURIComponent(member.userId)}`, { role });
      toast(`${member.email} is now ${roleLabel(role)}.`);
      reload();
      if (member.userId === session.user.id) await refresh();
    } catch (err) {
      toast(errorMessage(err), 'danger');
      members.reload();
    } finally {
      setPendingRole(null);
    }
  }

  const list = members.data?.data;
  return (
    <>
      <PageHeader
        title="Members"
        description="People in the organization and their roles. A personal key never exceeds its owner’s role; removing someone disables their personal keys."
        actions={
          session.isAdmin ? (
            <button type="button" className="button button-primary" onClick={() => setInviting(true)}>
              <PlusIcon />
              Invite member
            </button>
          ) : undefined
        }
      />
      {members.error ? (
        <ErrorAlert error={members.error} title="Members could not be loaded" onRetry={members.reload} />
      ) : list && list.length === 0 ? (
        <EmptyState icon={<UsersIcon width={24} height={24} />} title="No members" />
      ) : (
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">Members</caption>
            <thead>
              <tr>
                <th scope="col">Member</th>
                <th scope="col">Role</th>
                <th scope="col">Status</th>
                <th scope="col">Since</th>
                {session.isAdmin ? (
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody>
              {!list ? (
                <SkeletonRows columns={session.isAdmin ? 5 : 4} rows={3} />
              ) : (
                list.map((member) => {
                  const mayEditOwner = member.role !== 'OWNER' || session.role === 'OWNER';
                  return (
                    <tr key={member.userId}>
                      <td>
                        <span className="cell-strong">{member.name ?? member.email}</span>
                        {member.name ? <span className="cell-sub">{member.email}</span> : null}
                        {member.userId === session.user.id ? <span className="cell-sub">You</span> : null}
                      </td>
                      <td>
                        {session.isAdmin && mayEditOwner ? (
                          <select
                            className="select select-narrow"
                            aria-label={`Role of ${member.email}`}
                            value={member.role}
                            disabled={pendingRole === member.userId}
                            onChange={(event) => void changeRole(member, event.target.value as OrgRole)}
                          >
                            {roles
                              .filter((r) => r !== 'OWNER' || session.role === 'OWNER')
                              .map((r) => (
                                <option key={r} value={r}>
                                  {roleLabel(r)}
                                </option>
                              ))}
                          </select>
                        ) : (
                          roleLabel(member.role)
                        )}
                      </td>
                      <td>
                        <Badge tone={member.status === 'active' ? 'success' : 'warning'}>{member.status === 'active' ? 'Active' : 'Invited'}</Badge>
                      </td>
                      <td title={formatDateTime(member.createdAt)}>{formatDate(member.createdAt)}</td>
                      {session.isAdmin ? (
                        <td className="cell-actions">
                          {mayEditOwner ? (
                            <button type="button" className="button button-ghost button-small" onClick={() => setRemoving(member)} aria-label={`Remove ${member.email}`}>
                              Remove
                            </button>
                          ) : null}
                        </td>
                      ) : null}
                    </tr>
                  );
                })
              )}
            </tbody>
          </table>
        </div>
      )}
      <section className="role-guide" aria-labelledby="roles-title">
        <h2 id="roles-title" className="subheading">
          Roles
        </h2>
        <dl className="facts facts-inline">
          {roles.map((r) => (
            <div key={r}>
              <dt>{roleLabel(r)}</dt>
              <dd>{roleHints[r]}</dd>
            </div>
          ))}
        </dl>
      </section>
      {inviting ? <InviteDialog onClose={() => setInviting(false)} onInvited={reload} /> : null}
      {removing ? (
        <RemoveDialog
          member={removing}
          onCancel={() => setRemoving(null)}
          onRemoved={() => {
            toast(`Removed ${removing.email}.`);
            setRemoving(null);
            reload();
          }}
        />
      ) : null}
    </>
  );
}

function InviteDialog({ onClose, onInvited }: { onClose: () => void; onInvited: () => void }) {
  const session = useSession();
  const [form, setForm] = useState<{ email: string; role: OrgRole; name: string }>({ email: '', role: 'MEMBER', name: '' });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [invitation, setInvitation] = useState<InviteMemberResponse | null>(null);

  async function submit() {
    if (!form.email.includes('@')) {
      setErrors({ email: 'Enter their email address.' });
      return;
    }
    setErrors({});
    setBusy(true);
    setError(null);
    try {
      const answer = await api.post<InviteMemberResponse>('/api/members', { email: form.email.trim(), role: form.role, ...(form.name.trim() ? { name: form.name.trim() } : {}) });
      setInvitation(answer);
      onInvited();
    } catch (err) {
      if (err instanceof ApiError && err.status === 422) setErrors(err.fieldErrors);
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  if (invitation) {
    return (
      <Modal
        title="Send the invitation link"
        description={`${invitation.member.email} joins as ${roleLabel(invitation.member.role)} when they open this link and choose a password.`}
        footer={
          <button type="button" className="button button-primary" onClick={onClose}>
            Done
          </button>
        }
      >
        <Alert tone="warning" title="This link is shown only once">
          <p>Copy it now and send it to them over a channel you trust. It works once, until {formatDateTime(invitation.invitation.expiresAt)}.</p>
        </Alert>
        <div className="field">
          <label className="field-label" htmlFor="invitation-link">
            Invitation link
          </label>
          <CopyField id="invitation-link" value={invitation.invitation.url} label="Invitation link" />
        </div>
      </Modal>
    );
  }
  return (
    <Modal
      title="Invite a member"
      description="They get a link to choose a password and join this organization."
      onDismiss={onClose}
      onSubmit={submit}
      footer={
        <>
          <button type="button" className="button button-secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={busy}>
            {busy ? 'Inviting…' : 'Create invitation'}
          </button>
        </>
      }
    >
      <Field label="Email" error={errors.email}>
        {({ id, describedBy, invalid }) => (
          <input id={id} className="input" type="email" value={form.email} data-autofocus aria-describedby={describedBy} aria-invalid={invalid} onChange={(e) => setForm({ ...form, email: e.target.value })} />
        )}
      </Field>
      <Field label="Name" optional error={errors.name}>
        {({ id }) => <input id={id} className="input" value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />}
      </Field>
      <fieldset className="fieldset">
        <legend className="field-label">Role</legend>
        <div className="radio-list">
          {roles.map((r) => {
            const disabled = r === 'OWNER' && session.role !== 'OWNER';
            return (
              <label key={r} className={`radio${disabled ? ' is-disabled' : ''}`}>
                <input type="radio" name="invite-role" checked={form.role === r} disabled={disabled} onChange={() => setForm({ ...form, role: r })} />
                <span>
                  <span className="check-title">{roleLabel(r)}</span>
                  <span className="check-hint">{disabled ? 'Only an owner may make someone an owner.' : roleHints[r]}</span>
                </span>
              </label>
            );
          })}
        </div>
      </fieldset>
      {error && !(error instanceof ApiError && error.status === 422) ? <ErrorAlert error={error} title="No invitation was created" /> : null}
    </Modal>
  );
}

function RemoveDialog({ member, onCancel, onRemoved }: { member: Member; onCancel: () => void; onRemoved: () => void }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  return (
    <Modal
      role="alertdialog"
      size="small"
      title={`Remove ${member.name ?? member.email}?`}
      description="They lose access to this organization at once, and their personal API keys are disabled. Service keys keep working."
      onDismiss={onCancel}
      footer={
        <>
          <button type="button" className="button button-secondary" onClick={onCancel} data-autofocus>
            Cancel
          </button>
          <button
            type="button"
            className="button button-danger"
            disabled={busy}
            onClick={async () => {
              setBusy(true);
              try {
                await api.delete(`/api/members/${encodeURIComponent(member.userId)}`);
                onRemoved();
              } catch (err) {
                setError(err);
                setBusy(false);
              }
            }}
          >
            {busy ? 'Removing…' : 'Remove member'}
          </button>
        </>
      }
    >
      {error ? <ErrorAlert error={error} title="Not removed" /> : <p className="muted">{member.email}</p>}
    </Modal>
  );
}
