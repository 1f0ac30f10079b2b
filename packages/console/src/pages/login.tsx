import { useEffect, useState } from 'react';
import { Navigate, useNavigate, useSearchParams } from 'react-router';
import { Alert, ErrorAlert, Field, usePageTitle } from '../components/ui';
import { api, ApiError } from '../lib/api';
import { useSessionContext } from '../lib/session';
import { AuthLayout, safeNext } from './auth-layout';

export function LoginPage() {
  usePageTitle('Log in');
  const { state, refresh } = useSessionContext();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [setupRequired, setSetupRequired] = useState(false);
  const next = safeNext(params.get('next'));

  useEffect(() => {
    api.get<{ setupRequired: boolean }>('/api/setup').then((answer) => setSetupRequired(answer.setupRequired), () => undefined);
  }, []);

  if (state.status === 'ready') return <Navigate to={next} replace />;

  async function submit(event: React.FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.post('/api/auth/login', { email, password }, { quiet401: true, organizationId: null });
      const session = await refresh();
      if (session) navigate(next, { replace: true });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const wrongCredentials = error instanceof ApiError && (error.status === 401 || error.code === 'invalid_credentials');
  return (
    <AuthLayout title="Log in" subtitle="Manage your organization's API keys.">
      {setupRequired ? (
        <Alert tone="info" title="This Keyward is not set up yet">
          <p>
            Open the one-time setup link that <code>npm start</code> printed in its terminal (it ends in <code>/setup#token=…</code>) to create
            your organization and its owner.
          </p>
        </Alert>
      ) : null}
      <form className="stack" onSubmit={submit} noValidate>
        <Field label="Email">
          {({ id }) => (
            <input id={id} className="input" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />
          )}
        </Field>
        <Field label="Password">
          {({ id }) => (
            <input id={id} className="input" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
          )}
        </Field>
        {error ? (
          wrongCredentials ? (
            <Alert tone="danger">
              <p>The email or the password is not right.</p>
            </Alert>
          ) : (
            <ErrorAlert error={error} />
          )
        ) : null}
        <button type="submit" className="button button-primary button-block" disabled={busy || !email || !password}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
      <p className="auth-note">Invited by a colleague? Open the invitation link you were sent: it lets you choose your password.</p>
      <p className="auth-note">Forgot your password? Ask your operator for a reset link.</p>
    </AuthLayout>
  );
}
