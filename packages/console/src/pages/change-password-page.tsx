import { useRef, useState } from 'react';
import { useToast } from '../components/toast';
import { ErrorAlert, Field, PageHeader, usePageTitle } from '../components/ui';
import { api, ApiError } from '../lib/api';
import { useSession, useSessionContext } from '../lib/session';

type Errors = Partial<Record<'currentPassword' | 'newPassword' | 'confirm', string>>;

/**
 * The signed-in person changes their password (`POST /api/auth/change-password`). Their other sessions
 * end; this one stays. The server judges what is too weak: its 422 message is shown as it is.
 */
export function ChangePasswordPage() {
  usePageTitle('Change password');
  const session = useSession();
  const { refresh } = useSessionContext();
  const toast = useToast();
  const [form, setForm] = useState({ currentPassword: '', newPassword: '', confirm: '' });
  const [errors, setErrors] = useState<Errors>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);

  const set = (field: keyof typeof form) => (event: React.ChangeEvent<HTMLInputElement>) => {
    setForm({ ...form, [field]: event.target.value });
    if (errors[field]) setErrors({ ...errors, [field]: undefined });
  };

  function focusField(field: keyof Errors) {
    window.setTimeout(() => formRef.current?.querySelector<HTMLInputElement>(`[name="${field}"]`)?.focus(), 0);
  }

  async function submit(event: React.FormEvent) {
    event.preventDefault();
    const problems: Errors = {};
    if (!form.currentPassword) problems.currentPassword = 'Enter your current password.';
    if (!form.newPassword) problems.newPassword = 'Choose a new password.';
    else if (form.confirm !== form.newPassword) problems.confirm = 'The two new passwords are not the same.';
    setErrors(problems);
    const first = (['currentPassword', 'newPassword', 'confirm'] as const).find((field) => problems[field]);
    if (first) {
      focusField(first);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      // quiet401: a wrong current password is a 401 too, and must not look like the end of the session.
      await api.post('/api/auth/change-password', { currentPassword: form.currentPassword, newPassword: form.newPassword }, { quiet401: true });
      setForm({ currentPassword: '', newPassword: '', confirm: '' });
      toast('Password changed. Your other sessions were signed out; this one stays signed in.');
    } catch (err) {
      if (err instanceof ApiError && err.code === 'invalid_credentials') {
        setErrors({ currentPassword: 'The current password is wrong.' });
        focusField('currentPassword');
      } else if (err instanceof ApiError && err.status === 401) {
        // The session itself ended: whoami finds out, and the console returns to the login page.
        await refresh();
      } else if (err instanceof ApiError && err.status === 422) {
        setErrors({ newPassword: err.fieldErrors.newPassword ?? err.message });
        focusField('newPassword');
      } else {
        setError(err);
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <PageHeader title="Change password" description={`For ${session.user.email}. Changing it signs you out everywhere else; you stay signed in here.`} />
      <form ref={formRef} className="card password-form stack" onSubmit={submit} noValidate>
        {/* Lets password managers pair the new password with the account. */}
        <input type="text" name="username" autoComplete="username" value={session.user.email} readOnly hidden />
        <Field label="Current password" error={errors.currentPassword}>
          {({ id, describedBy, invalid }) => (
            <input
              id={id}
              name="currentPassword"
              className="input"
              type="password"
              autoComplete="current-password"
              value={form.currentPassword}
              onChange={set('currentPassword')}
              aria-describedby={describedBy}
              aria-invalid={invalid}
              autoFocus
            />
          )}
        </Field>
        <Field label="New password" error={errors.newPassword} hint="At least 8 characters.">
          {({ id, describedBy, invalid }) => (
            <input
              id={id}
              name="newPassword"
              className="input"
              type="password"
              autoComplete="new-password"
              value={form.newPassword}
              onChange={set('newPassword')}
              aria-describedby={describedBy}
              aria-invalid={invalid}
            />
          )}
        </Field>
        <Field label="Confirm new password" error={errors.confirm}>
          {({ id, describedBy, invalid }) => (
            <input
              id={id}
              name="confirm"
              className="input"
              type="password"
              autoComplete="new-password"
              value={form.confirm}
              onChange={set('confirm')}
              aria-describedby={describedBy}
              aria-invalid={invalid}
            />
          )}
        </Field>
        {error ? <ErrorAlert error={error} title="The password was not changed" /> : null}
        <div>
          <button type="submit" className="button button-primary" disabled={busy}>
            {busy ? 'Changing…' : 'Change password'}
          </button>
        </div>
      </form>
    </>
  );
}
