import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { Alert, ErrorAlert, Field, usePageTitle } from '../components/ui';
import { api, ApiError, setOrganizationId } from '../lib/api';
import { useSessionContext } from '../lib/session';
import { AuthLayout, readFragmentToken } from './auth-layout';

export function AcceptInvitationPage() {
  usePageTitle('Accept invitation');
  const { refresh } = useSessionContext();
  const navigate = useNavigate();
  const [token] = useState(() => readFragmentToken());
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: React.FormEvent) {
    event.preventDefault();
    if (password.length < 8) {
      setErrors({ password: 'Use at least 8 characters.' });
      return;
    }
    setErrors({});
    setBusy(true);
    setError(null);
    try {
      const accepted = await api.post<{ user: { email: string }; organizationId: string }>(
        '/api/invitations/accept',
        { token, password, ...(name.trim() ? { name: name.trim() } : {}) },
        { organizationId: null, quiet401: true },
      );
      await api.post('/api/auth/login', { email: accepted.user.email, password }, { organizationId: null, quiet401: true });
      setOrganizationId(accepted.organizationId);
      await refresh();
      navigate('/settings/api-keys', { replace: true });
    } catch (err) {
      if (err instanceof ApiError && err.status === 422) setErrors(err.fieldErrors);
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  if (!token) {
    return (
      <AuthLayout title="Accept an invitation" footer={<Link to="/login">Back to log in</Link>}>
        <Alert tone="warning" title="Open the invitation link itself">
          <p>
            An invitation link ends in <code>/accept-invitation#token=kwi_…</code>. Ask the person who invited you to send it again if you no longer
            have it.
          </p>
        </Alert>
      </AuthLayout>
    );
  }
  const invalid = error instanceof ApiError && (error.status === 404 || error.code === 'invitation_not_found');
  return (
    <AuthLayout title="Join your organization" subtitle="Choose a password to accept the invitation.">
      <form className="stack" onSubmit={submit} noValidate>
        <Field label="Your name" optional error={errors.name}>
          {({ id, describedBy }) => <input id={id} className="input" autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} aria-describedby={describedBy} autoFocus />}
        </Field>
        <Field label="Password" error={errors.password} hint="At least 8 characters. If you already have a Keyward account, enter its password.">
          {({ id, describedBy, invalid: bad }) => (
            <input id={id} className="input" type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} aria-describedby={describedBy} aria-invalid={bad} />
          )}
        </Field>
        {invalid ? (
          <Alert tone="danger" title="This invitation cannot be used">
            <p>It has expired, was already accepted, or was withdrawn. Ask for a new one.</p>
          </Alert>
        ) : error && !(error instanceof ApiError && error.status === 422) ? (
          <ErrorAlert error={error} />
        ) : null}
        <button type="submit" className="button button-primary button-block" disabled={busy}>
          {busy ? 'Joining…' : 'Accept and log in'}
        </button>
      </form>
    </AuthLayout>
  );
}
