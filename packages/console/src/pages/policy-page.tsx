import type { OrganizationPolicy, OrganizationPolicyResponse } from '@keyward/wire';
import { useEffect, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useToast } from '../components/toast';
import { Alert, ErrorAlert, Field, LoadingBlock, PageHeader, usePageTitle } from '../components/ui';
import { ApiError, request } from '../lib/api';
import { useSession } from '../lib/session';
import { useApi } from '../lib/use-api';

const maxDays = 3650;

/** The form's text for a lifetime: digits, or empty for no rule. */
interface PolicyForm {
  readonly maxKeyLifetimeDays: string;
  readonly defaultKeyLifetimeDays: string;
  readonly requireExpiry: boolean;
  readonly requireAllowedCidrsForServiceKeys: boolean;
  readonly personalKeysAllowed: boolean;
}

const formOf = (policy: OrganizationPolicy): PolicyForm => ({
  ...policy,
  maxKeyLifetimeDays: policy.maxKeyLifetimeDays === null ? '' : String(policy.maxKeyLifetimeDays),
  defaultKeyLifetimeDays: policy.defaultKeyLifetimeDays === null ? '' : String(policy.defaultKeyLifetimeDays),
});

type Lifetime = 'maxKeyLifetimeDays' | 'defaultKeyLifetimeDays';

/** The form as the policy, or the problems with it, by field. */
function parse(form: PolicyForm): { policy: OrganizationPolicy } | { errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const days = (field: Lifetime): number | null => {
    const text = form[field].trim();
    if (text === '') return null;
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < 1 || value > maxDays) errors[field] = `A whole number of days from 1 to ${maxDays}, or empty for no rule.`;
    return value;
  };
  const maxKeyLifetimeDays = days('maxKeyLifetimeDays');
  const defaultKeyLifetimeDays = days('defaultKeyLifetimeDays');
  if (!errors.maxKeyLifetimeDays && !errors.defaultKeyLifetimeDays && maxKeyLifetimeDays !== null && defaultKeyLifetimeDays !== null && defaultKeyLifetimeDays > maxKeyLifetimeDays) {
    errors.defaultKeyLifetimeDays = `The default cannot be longer than the maximum (${maxKeyLifetimeDays} days).`;
  }
  if (Object.keys(errors).length > 0) return { errors };
  return {
    policy: {
      maxKeyLifetimeDays,
      defaultKeyLifetimeDays,
      requireExpiry: form.requireExpiry,
      requireAllowedCidrsForServiceKeys: form.requireAllowedCidrsForServiceKeys,
      personalKeysAllowed: form.personalKeysAllowed,
    },
  };
}

const checks: { field: 'requireExpiry' | 'requireAllowedCidrsForServiceKeys' | 'personalKeysAllowed'; title: string; help: string }[] = [
  { field: 'requireExpiry', title: 'Every key must expire', help: 'Keys without an expiry are refused, unless a default lifetime gives them one.' },
  {
    field: 'requireAllowedCidrsForServiceKeys',
    title: 'Service keys need allowed IP ranges',
    help: 'A service key must list the addresses it may be used from, so a leaked CI key is useless elsewhere.',
  },
  { field: 'personalKeysAllowed', title: 'Members may create personal keys', help: 'Turn off to allow only service keys, which owners and admins create and which survive people leaving.' },
];

/** Settings → Policy: the rules every new key follows. Everyone reads them; only owners change them. */
export function PolicyPage() {
  usePageTitle('Key policy');
  const session = useSession();
  const loaded = useApi<OrganizationPolicyResponse>('/api/organization/policy');
  const isOwner = session.role === 'OWNER';
  return (
    <>
      <PageHeader
        title="Key policy"
        description="Rules every new key of the organization must follow, whether it is made here, with the CLI, through the API or by an assistant."
      />
      {loaded.error ? (
        <ErrorAlert error={loaded.error} title="The key policy could not be loaded" onRetry={loaded.reload} />
      ) : !loaded.data ? (
        <LoadingBlock label="Loading the key policy" height={320} />
      ) : (
        <PolicyEditor policy={loaded.data.policy} editable={isOwner} onSaved={loaded.reload} />
      )}
    </>
  );
}

function PolicyEditor({ policy, editable, onSaved }: { policy: OrganizationPolicy; editable: boolean; onSaved: () => void }) {
  const [form, setForm] = useState<PolicyForm>(() => formOf(policy));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const toast = useToast();
  useEffect(() => setForm(formOf(policy)), [policy]);
  const dirty = JSON.stringify(form) !== JSON.stringify(formOf(policy));

  async function save(event: FormEvent) {
    event.preventDefault();
    const parsed = parse(form);
    if ('errors' in parsed) {
      setErrors(parsed.errors);
      return;
    }
    setErrors({});
    setError(null);
    setBusy(true);
    try {
      await request<OrganizationPolicyResponse>('PUT', '/api/organization/policy', { body: parsed.policy });
      toast('Key policy saved. It applies to keys created, edited or rolled from now on.');
      onSaved();
    } catch (err) {
      if (err instanceof ApiError && err.status === 422) setErrors(err.fieldErrors);
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const lifetime = (field: Lifetime, label: string, hint: string) => (
    <Field label={label} optional hint={hint} error={errors[field]}>
      {({ id, describedBy, invalid }) => (
        <div className="input-with-unit">
          <input
            id={id}
            name={field}
            className="input input-narrow"
            inputMode="numeric"
            placeholder="No rule"
            value={form[field]}
            disabled={!editable}
            aria-describedby={describedBy}
            aria-invalid={invalid}
            onChange={(event) => setForm({ ...form, [field]: event.target.value })}
          />{' '}
          <span className="muted">days</span>
        </div>
      )}
    </Field>
  );

  return (
    <form className="card stack policy-form" onSubmit={save} noValidate aria-label="Key policy">
      {editable ? null : (
        <Alert tone="info" title="Only owners can change the key policy">
          You can read it here: it says what keys you may create. Ask an organization owner to change it.
        </Alert>
      )}
      {lifetime(
        'maxKeyLifetimeDays',
        'Maximum key lifetime',
        'No key may expire later than this many days after it is created, its expiry changed, or it is rolled. Keys must then expire. Empty: no maximum.',
      )}
      {lifetime(
        'defaultKeyLifetimeDays',
        'Default key lifetime',
        'A key created without an expiry expires this many days later, and its creator is told. At most the maximum. Empty: keys may be created without an expiry.',
      )}
      <fieldset className="check-list" disabled={!editable}>
        <legend className="field-label">Rules</legend>
        {checks.map((check) => (
          <label key={check.field} className="check-row">
            <input type="checkbox" name={check.field} checked={form[check.field]} onChange={(event) => setForm({ ...form, [check.field]: event.target.checked })} />
            <span>
              <span className="check-title">{check.title}</span>
              <span className="check-hint">{check.help}</span>
            </span>
          </label>
        ))}
      </fieldset>
      <p className="muted">
        A new policy changes no existing key: keys that break it keep working and are marked “Breaks policy” on the{' '}
        <Link to="/settings/api-keys">API Keys</Link> page, so you can fix or replace them.
      </p>
      {error && !(error instanceof ApiError && error.status === 422 && Object.keys(errors).length > 0) ? <ErrorAlert error={error} title="The key policy was not saved" /> : null}
      {editable ? (
        <div>
          <button type="submit" className="button button-primary" disabled={busy || !dirty}>
            {busy ? 'Saving…' : 'Save policy'}
          </button>
        </div>
      ) : null}
    </form>
  );
}
