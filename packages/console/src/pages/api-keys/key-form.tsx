import type { ApiKey, OrganizationPolicy } from '@keyward/wire';
import { useId } from 'react';
import { Link } from 'react-router';
import { MemberPicker } from '../../components/member-picker';
import { Alert, Field, LoadingBlock } from '../../components/ui';
import { useDirectory } from '../../lib/directory';
import { formatDate, formatDateTime, roleLabel } from '../../lib/format';
import { canChangeCredits, expirationPresets, rolePermissions } from '../../lib/keys';
import type { Session } from '../../lib/session';
import { CidrEditor } from './cidr-editor';
import { LimitsEditor } from './limits-editor';
import { assignedOwner, dateInputValue, expiresAtOf, type KeyFormState, type ScopeKind } from './key-form-model';
import { PermissionGrid } from './permission-grid';
import { ScopesEditor } from './scopes-editor';

export interface KeyFormProps {
  readonly state: KeyFormState;
  readonly onChange: (state: KeyFormState) => void;
  readonly errors: Record<string, string>;
  readonly session: Session;
  readonly mode: 'create' | 'edit';
  /** The key being edited. */
  readonly original?: ApiKey;
  /** The organization's key policy, to say what it will do to the expiry. */
  readonly policy?: OrganizationPolicy | undefined;
}

export function KeyForm({ state, onChange, errors, session, mode, original, policy }: KeyFormProps) {
  const directory = useDirectory();
  const set = <K extends keyof KeyFormState>(field: K, value: KeyFormState[K]) => onChange({ ...state, [field]: value });
  const owner = assignedOwner(state, session);
  const role = roleLabel(owner?.role ?? session.role);
  // A key for another member is capped by that member's rights, not the creator's.
  const ownerPermissions = owner && directory.catalogue ? rolePermissions(owner.role, directory.catalogue) : session.permissions;

  const unavailable = (permission: string): string | null => {
    if (permission === 'organization:manage') {
      if (state.keyType === 'project') return 'Not for project keys';
      if (state.scopeKind !== 'organization') return 'Only for organization-wide keys';
    }
    if (state.keyType === 'personal' && !ownerPermissions.has(permission)) return owner ? `Not in their role (${role})` : `Not in your role (${role})`;
    return null;
  };
  const advancedHasContent =
    state.scopes.length > 0 || state.cidrs.length > 0 || errors.allowedCidrs !== undefined || Object.keys(errors).some((k) => k.startsWith('scope:') || k.startsWith('cidr:'));

  return (
    <div className="form-sections">
      {mode === 'create' && state.keyType !== 'project' ? <TypeChoice state={state} onChange={onChange} session={session} /> : null}
      {errors.keyType ? (
        <p className="field-error">{errors.keyType}</p>
      ) : mode === 'create' && state.keyType === 'personal' && policy && !policy.personalKeysAllowed ? (
        <Alert tone="warning">
          This organization’s <Link to="/settings/policy">key policy</Link> does not allow personal keys
          {session.isAdmin ? ': create a service key instead.' : ': ask an owner or admin for a service key.'}
        </Alert>
      ) : mode === 'create' && state.keyType === 'service' && policy?.requireAllowedCidrsForServiceKeys && state.cidrs.length === 0 ? (
        <Alert tone="info">
          The organization’s <Link to="/settings/policy">key policy</Link> requires service keys to have allowed IP ranges: add them under Advanced.
        </Alert>
      ) : null}
      {mode === 'create' && state.keyType === 'personal' && session.isAdmin ? <OwnerChoice state={state} onChange={onChange} session={session} error={errors.assignedToUserId} /> : null}

      <section className="form-section" aria-labelledby="key-details-heading">
        <h3 id="key-details-heading" className="section-title">
          Details
        </h3>
        <Field label="Name" error={errors.name} hint='A name that says where the key is used, such as "CI pipeline" or "Local dev".'>
          {({ id, describedBy, invalid }) => (
            <input
              id={id}
              className="input"
              value={state.name}
              maxLength={100}
              autoComplete="off"
              data-autofocus
              aria-describedby={describedBy}
              aria-invalid={invalid}
              aria-required="true"
              onChange={(event) => set('name', event.target.value)}
            />
          )}
        </Field>
        <Field label="Description" optional error={errors.description}>
          {({ id, describedBy, invalid }) => (
            <textarea
              id={id}
              className="input textarea"
              rows={2}
              value={state.description}
              aria-describedby={describedBy}
              aria-invalid={invalid}
              onChange={(event) => set('description', event.target.value)}
            />
          )}
        </Field>
      </section>

      {state.keyType !== 'project' ? (
        <section className="form-section" aria-labelledby="key-scope-heading">
          <h3 id="key-scope-heading" className="section-title">
            Scope
          </h3>
          <ScopeChoice state={state} onChange={onChange} error={errors.bindings} loading={!directory.ready} />
        </section>
      ) : null}

      <section className="form-section" aria-labelledby="key-expiration-heading">
        <h3 id="key-expiration-heading" className="section-title">
          Expiration
        </h3>
        <ExpirationChoice state={state} onChange={onChange} error={errors.expiresAt} original={original} policy={policy} />
      </section>

      <section className="form-section" aria-labelledby="key-permissions-heading">
        <h3 id="key-permissions-heading" className="section-title">
          Permissions
        </h3>
        <fieldset className="fieldset">
          <legend className="visually-hidden">Permission mode</legend>
          <div className="choice-row">
            <label className="radio">
              <input type="radio" name="permission-mode" checked={state.permissionMode === 'all'} onChange={() => set('permissionMode', 'all')} />
              <span>
                <span className="check-title">All</span>
                <span className="check-hint">
                  {state.keyType === 'personal'
                    ? owner
                      ? `Everything ${owner.label} may do at the key's scope, and never more: the key follows their role (${role}) if it changes.`
                      : `Everything you may do at the key's scope, and never more: the key follows your role (${role}) if it changes.`
                    : state.keyType === 'service'
                      ? 'Admin access at the key’s scope.'
                      : 'Full access to the project.'}
                </span>
              </span>
            </label>
            <label className="radio">
              <input type="radio" name="permission-mode" checked={state.permissionMode === 'restricted'} onChange={() => set('permissionMode', 'restricted')} />
              <span>
                <span className="check-title">Restricted</span>
                <span className="check-hint">Only the categories you pick, at read or write level.</span>
              </span>
            </label>
          </div>
        </fieldset>
        {state.permissionMode === 'restricted' ? (
          directory.catalogue ? (
            <>
              {state.keyType === 'personal' && owner && owner.role !== 'OWNER' && owner.role !== 'ADMIN' ? (
                <p className="field-hint">
                  A personal key can never do more than its owner: permissions outside {owner.label}’s role ({role}) are shown as unavailable.
                </p>
              ) : state.keyType === 'personal' && !owner && session.role !== 'OWNER' && session.role !== 'ADMIN' ? (
                <p className="field-hint">
                  A personal key can never do more than you: permissions outside your role ({role}) are shown as unavailable.
                </p>
              ) : null}
              <PermissionGrid catalogue={directory.catalogue} selected={state.permissions} onChange={(permissions) => set('permissions', permissions)} unavailable={unavailable} />
              {errors.permissions ? <p className="field-error">{errors.permissions}</p> : null}
            </>
          ) : (
            <LoadingBlock label="Loading permissions" height={120} />
          )
        ) : null}
      </section>

      <LimitsEditor
        rows={state.rateLimits}
        credits={state.credits}
        onRowsChange={(rows) => set('rateLimits', rows)}
        onCreditsChange={(credits) => set('credits', credits)}
        errors={errors}
        canSetCredits={canChangeCredits(session)}
        mode={mode}
      />

      <details className="form-section advanced" open={advancedHasContent || undefined}>
        <summary className="section-title">
          Advanced: scopes and allowed IP ranges
          <span className="summary-note">
            {[state.scopes.length ? `${state.scopes.length} scope${state.scopes.length === 1 ? '' : 's'}` : null, state.cidrs.length ? `${state.cidrs.length} IP range${state.cidrs.length === 1 ? '' : 's'}` : null]
              .filter(Boolean)
              .join(' · ')}
          </span>
        </summary>
        <div className="advanced-body">
          <ScopesEditor rows={state.scopes} onChange={(rows) => set('scopes', rows)} errors={errors} />
          <CidrEditor rows={state.cidrs} onChange={(rows) => set('cidrs', rows)} errors={errors} />
          {errors.allowedCidrs ? <p className="field-error">{errors.allowedCidrs}</p> : null}
        </div>
      </details>
    </div>
  );
}

/** Owners and admins may create a personal key for another member (`assignedToUserId`); by default it is theirs. */
function OwnerChoice({ state, onChange, session, error }: { state: KeyFormState; onChange: (s: KeyFormState) => void; session: Session; error?: string | undefined }) {
  const directory = useDirectory();
  const members = directory.members.filter((m) => m.status === 'active');
  const value = state.owner?.userId ?? session.user.id;
  return (
    <section className="form-section" aria-label="Owner">
      <MemberPicker
        label="Key for"
        members={members}
        value={value}
        selfId={session.user.id}
        loading={!directory.ready}
        hint="The member who owns the key. It can never do more than they can, follows their role, and is disabled if they leave the organization."
        onChange={(member) =>
          onChange({
            ...state,
            owner: member.userId === session.user.id ? null : { userId: member.userId, role: member.role, label: member.name ?? member.email },
            // Permissions picked for one person may be beyond another's rights.
            permissions: member.userId === value ? state.permissions : [],
          })
        }
      />
      {error ? <p className="field-error">{error}</p> : null}
    </section>
  );
}

function TypeChoice({ state, onChange, session }: { state: KeyFormState; onChange: (s: KeyFormState) => void; session: Session }) {
  const serviceReason = session.isAdmin ? null : `Only owners and admins create service keys (your role: ${roleLabel(session.role)}).`;
  const choose = (keyType: 'personal' | 'service') =>
    onChange({ ...state, keyType, expiration: keyType === 'service' && state.expiration === '90' ? '365' : state.expiration });
  return (
    <fieldset className="fieldset form-section">
      <legend className="section-title">Type</legend>
      <div className="type-cards">
        <label className={`type-card${state.keyType === 'personal' ? ' selected' : ''}`}>
          <input type="radio" name="key-type" checked={state.keyType === 'personal'} onChange={() => choose('personal')} />
          <span>
            <span className="check-title">Personal</span>
            <span className="check-hint">Tied to you and capped by your own rights. For local development, scripts and assistants.</span>
          </span>
        </label>
        <label className={`type-card${state.keyType === 'service' ? ' selected' : ''}${serviceReason ? ' is-disabled' : ''}`}>
          <input type="radio" name="key-type" checked={state.keyType === 'service'} disabled={Boolean(serviceReason)} onChange={() => choose('service')} aria-describedby={serviceReason ? 'service-reason' : undefined} />
          <span>
            <span className="check-title">Service</span>
            <span className="check-hint">Not tied to a person, so it keeps working when people leave. For CI/CD and services.</span>
            {serviceReason ? (
              <span className="unavailable" id="service-reason">
                {serviceReason}
              </span>
            ) : null}
          </span>
        </label>
      </div>
      {session.isAdmin ? <p className="field-hint">Legacy project keys are created from a project’s page.</p> : null}
    </fieldset>
  );
}

function ScopeChoice({ state, onChange, error, loading }: { state: KeyFormState; onChange: (s: KeyFormState) => void; error?: string | undefined; loading: boolean }) {
  const directory = useDirectory();
  const errorId = useId();
  const projects = directory.projects.filter((p) => !p.archivedAt || state.projectIds.includes(p.id));
  const kinds: { value: ScopeKind; label: string; hint: string }[] = [
    { value: 'organization', label: 'Organization', hint: 'Every project, present and future.' },
    { value: 'teams', label: 'Teams', hint: 'The projects of the teams you pick.' },
    { value: 'projects', label: 'Projects', hint: 'Only the projects you pick.' },
  ];
  const toggle = (field: 'teamIds' | 'projectIds', id: string, on: boolean) =>
    onChange({ ...state, [field]: on ? [...state[field], id] : state[field].filter((x) => x !== id) });
  return (
    <fieldset className="fieldset" aria-describedby={error ? errorId : undefined}>
      <legend className="visually-hidden">Scope</legend>
      <div className="choice-row">
        {kinds.map((kind) => (
          <label key={kind.value} className="radio">
            <input type="radio" name="scope-kind" checked={state.scopeKind === kind.value} onChange={() => onChange({ ...state, scopeKind: kind.value })} />
            <span>
              <span className="check-title">{kind.label}</span>
              <span className="check-hint">{kind.hint}</span>
            </span>
          </label>
        ))}
      </div>
      {state.scopeKind === 'teams' ? (
        loading ? (
          <LoadingBlock height={64} label="Loading teams" />
        ) : directory.teams.length === 0 ? (
          <Alert tone="info">
            <p>
              There are no teams yet. {` `}
              <Link to="/settings/teams">Teams</Link> are created by owners and admins.
            </p>
          </Alert>
        ) : (
          <div className="check-list" role="group" aria-label="Teams">
            {directory.teams.map((team) => (
              <label key={team.id} className="check-row">
                <input type="checkbox" checked={state.teamIds.includes(team.id)} onChange={(event) => toggle('teamIds', team.id, event.target.checked)} />
                <span>{team.name}</span>
              </label>
            ))}
          </div>
        )
      ) : null}
      {state.scopeKind === 'projects' ? (
        loading ? (
          <LoadingBlock height={64} label="Loading projects" />
        ) : projects.length === 0 ? (
          <Alert tone="info">
            <p>
              There are no projects yet. <Link to="/settings/projects">Projects</Link> are created by owners and admins.
            </p>
          </Alert>
        ) : (
          <div className="check-list" role="group" aria-label="Projects">
            {projects.map((project) => (
              <label key={project.id} className="check-row">
                <input type="checkbox" checked={state.projectIds.includes(project.id)} onChange={(event) => toggle('projectIds', project.id, event.target.checked)} />
                <span>
                  {project.name}
                  {project.archivedAt ? <span className="muted"> (archived)</span> : null}
                </span>
              </label>
            ))}
          </div>
        )
      ) : null}
      {error ? (
        <p className="field-error" id={errorId}>
          {error}
        </p>
      ) : null}
    </fieldset>
  );
}

function ExpirationChoice({
  state,
  onChange,
  error,
  original,
  policy,
}: {
  state: KeyFormState;
  onChange: (s: KeyFormState) => void;
  error?: string | undefined;
  original?: ApiKey | undefined;
  policy?: OrganizationPolicy | undefined;
}) {
  const at = expiresAtOf(state);
  const tomorrow = dateInputValue(new Date(Date.now() + 86_400_000));
  const current = original ? (original.expiresAt ? `Keep: ${formatDateTime(original.expiresAt)}` : 'Keep: no expiration') : null;
  // What the organization's key policy does to a key asked without an expiry (CONTRACT.md "Organization policy").
  const policyDefault = !original && policy?.defaultKeyLifetimeDays ? new Date(Date.now() + policy.defaultKeyLifetimeDays * 86_400_000) : null;
  const policyNote = policyDefault
    ? `The organization’s key policy gives keys without an expiry ${policy!.defaultKeyLifetimeDays} days: this key will expire on ${formatDate(policyDefault)}.`
    : policy?.maxKeyLifetimeDays || policy?.requireExpiry
      ? `The organization’s key policy requires an expiry${policy.maxKeyLifetimeDays ? ` within ${policy.maxKeyLifetimeDays} days` : ''}: choose one.`
      : null;
  return (
    <div className="inline-fields">
      <Field label="Expires" error={state.expiration === 'custom' ? undefined : error}>
        {({ id, describedBy }) => (
          <select
            id={id}
            className="select"
            value={state.expiration}
            aria-describedby={describedBy}
            onChange={(event) => onChange({ ...state, expiration: event.target.value as KeyFormState['expiration'] })}
          >
            {current ? <option value="keep">{current}</option> : null}
            {expirationPresets.map((preset) => (
              <option key={preset.id} value={preset.id}>
                {preset.days === null ? preset.label : `${original ? 'In ' : ''}${preset.label}`}
              </option>
            ))}
            <option value="custom">Custom date…</option>
          </select>
        )}
      </Field>
      {state.expiration === 'custom' ? (
        <Field label="Date" error={error} hint="The key stops working at the end of this day, your time.">
          {({ id, describedBy, invalid }) => (
            <input
              id={id}
              className="input"
              type="date"
              min={tomorrow}
              value={state.customDate}
              aria-describedby={describedBy}
              aria-invalid={invalid}
              onChange={(event) => onChange({ ...state, customDate: event.target.value })}
            />
          )}
        </Field>
      ) : null}
      <p className="expiry-note" aria-live="polite">
        {state.expiration === 'keep'
          ? null
          : at === null
            ? (policyNote ?? 'The key never expires. Consider an expiry and a rotation schedule for keys used in production.')
            : at
              ? `The key will expire on ${formatDate(at)}.`
              : null}
      </p>
    </div>
  );
}
