import { useState } from 'react';
import { Link } from 'react-router';
import { Alert, ErrorAlert, Field, usePageTitle } from '../components/ui';
import { api, ApiError } from '../lib/api';
import { useSessionContext } from '../lib/session';
import { AuthLayout, readLinkToken } from './auth-layout';

type Outcome = 'form' | 'done' | 'invalid';

/**
 * The page of a reset link (`keyward admin reset-password` prints it: `/reset-password?token=…`). The
 * token leaves the address bar as soon as it is read; `POST /api/auth/reset-password` sets the new
 * password and ends every session of that person, so they sign in again.
 */
export function ResetPasswordPage() {
  usePageTitle('Choose a new password');
  const { refresh } = useSessionContext();
  const [token] = useState(() => readLinkToken());
  const [outcome, setOutcome] = useState<Outcome>(token ? 'form' : 'invalid');
  const [form, setForm] = useState({ password: '', confirm: '' });
  const [errors, setErrors] = useState<{ password?: string; confirm?: string }>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: React.FormEvent) {
    event.preventDefault();
    const problems: typeof errors = {};
    if (!form.password) problems.password = 'Choose a new password.';
    else if (form.confirm !== form.password) problems.confirm = 'The two passwords are not the same.';
    setErrors(problems);
    if (Object.keys(problems).length > 0 || !token) return;
    setBusy(true);
    setError(null);
    try {
      await api.post('/api/auth/reset-password', { token, password: form.password }, { quiet401: true, organizationId: null });
      setOutcome('done');
      // Every session of this person ended, this browser's too if it had one.
      void refresh();
    } catch (err) {
      if (err instanceof ApiError && (err.code === 'reset_token_invalid' || err.status === 404 || (err.status === 422 && err.fieldErrors.token))) setOutcome('invalid');
      else if (err instanceof ApiError && err.status === 422) setErrors({ password: err.fieldErrors.password ?? err.message });
      else setError(err);
    } finally {
      setBusy(false);
    }
  }

  if (outcome === 'done') {
    return (
      <AuthLayout title="Password changed">
        <Alert tone="success" title="Your password has been changed">
          <p>Sign in with your new password. Every session you had before has been signed out.</p>
        </Alert>
        <Link to="/login" className="button button-primary button-block">
          Sign in
        </Link>
      </AuthLayout>
    );
  }
  if (outcome === 'invalid') {
    return (
      <AuthLayout title="Choose a new password">
        <Alert tone="danger" title="This link is invalid or has expired">
          <p>
            Reset links work once, for an hour. Ask your operator for a new one (<code>keyward admin reset-password</code>).
          </p>
        </Alert>
        <p className="auth-note">
          Remember your password? <Link to="/login">Sign in</Link>
        </p>
      </AuthLayout>
    );
  }
  return (
    <AuthLayout title="Choose a new password" subtitle="The link works once. After this you sign in with the new password.">
      <form className="stack" onSubmit={submit} noValidate>
        <Field label="New password" error={errors.password} hint="At least 8 characters.">
          {({ id, describedBy, invalid }) => (
            <input
              id={id}
              className="input"
              type="password"
              autoComplete="new-password"
              value={form.password}
              onChange={(e) => setForm({ ...form, password: e.target.value })}
              aria-describedby={describedBy}
              aria-invalid={invalid}
              autoFocus
            />
          )}
        </Field>
        <Field label="Confirm new password" error={errors.confirm}>
          {({ id, describedBy, invalid }) => (
            <input
              id={id}
              className="input"
              type="password"
              autoComplete="new-password"
              value={form.confirm}
              onChange={(e) => setForm({ ...form, confirm: e.target.value })}
              aria-describedby={describedBy}
              aria-invalid={invalid}
            />
          )}
        </Field>
        {error ? <ErrorAlert error={error} title="The password was not changed" /> : null}
        <button type="submit" className="button button-primary button-block" disabled={busy}>
          {busy ? 'Saving…' : 'Set new password'}
        </button>
      </form>
    </AuthLayout>
  );
}
