import { useEffect, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { Alert, ErrorAlert, Field, LoadingBlock, usePageTitle } from '../components/ui';
import { api, ApiError, setOrganizationId } from '../lib/api';
import { useSessionContext } from '../lib/session';
import { AuthLayout, readFragmentToken } from './auth-layout';

export function SetupPage() {
  usePageTitle('Set up Keyward');
  const { refresh } = useSessionContext();
  const navigate = useNavigate();
  const [token] = useState(() => readFragmentToken());
  const [required, setRequired] = useState<boolean | null>(null);
  const [form, setForm] = useState({ organizationName: '', name: '', email: '', password: '' });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api.get<{ setupRequired: boolean }>('/api/setup').then(
      (answer) => setRequired(answer.setupRequired),
      () => setRequired(true),
    );
  }, []);

  const set = (field: keyof typeof form) => (event: React.ChangeEvent<HTMLInputElement>) => setForm({ ...form, [field]: event.target.value });

  async function submit(event: React.FormEvent) {
    event.preventDefault();
    const problems: Record<string, string> = {};
    if (!form.organizationName.trim()) problems.organizationName = 'Name your organization.';
    if (!form.email.includes('@')) problems.email = 'Enter the email address you will log in with.';
    if (form.password.length < 8) problems.password = 'Use at least 8 characters.';
    setErrors(problems);
    if (Object.keys(problems).length > 0 || !token) return;
    setBusy(true);
    setError(null);
    try {
      const created = await api.post<{ organizationId: string }>(
        '/api/setup',
        { token, organizationName: form.organizationName.trim(), email: form.email.trim(), password: form.password, ...(form.name.trim() ? { name: form.name.trim() } : {}) },
        { organizationId: null, quiet401: true },
      );
      setOrganizationId(created.organizationId);
      await refresh();
      navigate('/settings/api-keys', { replace: true });
    } catch (err) {
      if (err instanceof ApiError && err.status === 422) setErrors(err.fieldErrors);
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  if (required === null) {
    return (
      <AuthLayout title="Set up Keyward">
        <LoadingBlock height={240} />
      </AuthLayout>
    );
  }
  if (!required) {
    return (
      <AuthLayout title="Keyward is set up" subtitle="The first organization exists already; this link cannot be used again.">
        <Link to="/login" className="button button-primary button-block">
          Go to log in
        </Link>
      </AuthLayout>
    );
  }
  if (!token) {
    return (
      <AuthLayout title="Set up Keyward">
        <Alert tone="warning" title="This page needs the setup link">
          <p>
            Open the link that <code>npm start</code> printed in its terminal: it ends in <code>/setup#token=kwsetup_…</code>. The token in it is
            used once, to create your organization and its owner.
          </p>
        </Alert>
      </AuthLayout>
    );
  }
  return (
    <AuthLayout title="Set up Keyward" subtitle="Create your organization and its owner account. You can invite your colleagues next.">
      <form className="stack" onSubmit={submit} noValidate>
        <Field label="Organization name" error={errors.organizationName} hint="Your company or team, as your colleagues know it.">
          {({ id, describedBy, invalid }) => (
            <input id={id} className="input" autoComplete="organization" value={form.organizationName} onChange={set('organizationName')} aria-describedby={describedBy} aria-invalid={invalid} autoFocus />
          )}
        </Field>
        <Field label="Your name" optional error={errors.name}>
          {({ id, describedBy, invalid }) => <input id={id} className="input" autoComplete="name" value={form.name} onChange={set('name')} aria-describedby={describedBy} aria-invalid={invalid} />}
        </Field>
        <Field label="Email" error={errors.email}>
          {({ id, describedBy, invalid }) => (
            <input id={id} className="input" type="email" autoComplete="username" value={form.email} onChange={set('email')} aria-describedby={describedBy} aria-invalid={invalid} />
          )}
        </Field>
        <Field label="Password" error={errors.password} hint="At least 8 characters.">
          {({ id, describedBy, invalid }) => (
            <input id={id} className="input" type="password" autoComplete="new-password" value={form.password} onChange={set('password')} aria-describedby={describedBy} aria-invalid={invalid} />
          )}
        </Field>
        {error && !(error instanceof ApiError && error.status === 422) ? <ErrorAlert error={error} /> : null}
        <button type="submit" className="button button-primary button-block" disabled={busy}>
          {busy ? 'Creating…' : 'Create organization'}
        </button>
      </form>
    </AuthLayout>
  );
}
