import type { RoleBinding } from '@keyward/wire';
import { useRef, useState } from 'react';
import { api, errorMessage } from '../lib/api';
import { useDirectory } from '../lib/directory';
import { roleLabel } from '../lib/format';
import { useSession } from '../lib/session';
import { useApi } from '../lib/use-api';
import { useToast } from './toast';
import { ErrorAlert, LoadingBlock } from './ui';

const bindingRoles = ['ADMIN', 'MEMBER', 'VIEWER'] as const;

/**
 * The people with a role on a team or a project, beyond their organization role (role bindings).
 * Admins add and remove them; everyone else reads.
 */
export function BindingsEditor({ scopeType, scopeId, scopeName }: { scopeType: 'TEAM' | 'PROJECT'; scopeId: string; scopeName: string }) {
  const session = useSession();
  const directory = useDirectory();
  const toast = useToast();
  const bindings = useApi<{ data: RoleBinding[] }>('/api/role-bindings?limit=100');
  const [userId, setUserId] = useState('');
  const [role, setRole] = useState<(typeof bindingRoles)[number]>('MEMBER');
  const [busy, setBusy] = useState(false);
  const memberSelect = useRef<HTMLSelectElement>(null);
  const here = (bindings.data?.data ?? []).filter((b) => b.scopeType === scopeType && b.scopeId === scopeId);
  const candidates = directory.members.filter((m) => m.status === 'active');

  async function add() {
    if (!userId) return;
    setBusy(true);
    try {
      await api.post('/api/role-bindings', { userId, role, scopeType, scopeId });
      toast(`${directory.memberLabel(userId)} is now ${roleLabel(role)} on ${scopeName}.`);
      setUserId('');
      bindings.reload();
      memberSelect.current?.focus();
    } catch (err) {
      toast(errorMessage(err), 'danger');
    } finally {
      setBusy(false);
    }
  }

  async function remove(binding: RoleBinding) {
    try {
      await api.delete(`/api/role-bindings/${encodeURIComponent(binding.id)}`);
      toast(`Removed ${directory.memberLabel(binding.userId)} from ${scopeName}.`);
      bindings.reload();
      memberSelect.current?.focus();
    } catch (err) {
      toast(errorMessage(err), 'danger');
    }
  }

  if (bindings.error) return <ErrorAlert error={bindings.error} onRetry={bindings.reload} />;
  if (!bindings.data) return <LoadingBlock height={80} />;
  return (
    <div className="bindings">
      {here.length === 0 ? (
        <p className="muted">Nobody has a role here beyond their organization role.</p>
      ) : (
        <ul className="binding-list">
          {here.map((binding) => (
            <li key={binding.id}>
              <span>{directory.memberLabel(binding.userId)}</span>
              <span className="muted">{roleLabel(binding.role)}</span>
              {session.isAdmin ? (
                <button type="button" className="button button-ghost button-small" onClick={() => void remove(binding)} aria-label={`Remove ${directory.memberLabel(binding.userId)} from ${scopeName}`}>
                  Remove
                </button>
              ) : null}
            </li>
          ))}
        </ul>
      )}
      {session.isAdmin ? (
        <div className="inline-form">
          <select ref={memberSelect} className="select" aria-label="Member to add" value={userId} onChange={(e) => setUserId(e.target.value)}>
            <option value="">Choose a member…</option>
            {candidates.map((m) => (
              <option key={m.userId} value={m.userId}>
                {m.email}
              </option>
            ))}
          </select>
          <select className="select select-narrow" aria-label="Role" value={role} onChange={(e) => setRole(e.target.value as (typeof bindingRoles)[number])}>
            {bindingRoles.map((r) => (
              <option key={r} value={r}>
                {roleLabel(r)}
              </option>
            ))}
          </select>
          <button type="button" className="button button-secondary button-small" disabled={!userId || busy} onClick={() => void add()}>
            Add
          </button>
        </div>
      ) : null}
    </div>
  );
}
