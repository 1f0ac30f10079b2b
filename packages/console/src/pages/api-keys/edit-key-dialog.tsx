import type { ApiKey, UpdateApiKeyResponse } from '@keyward/wire';
import { useState } from 'react';
import { Modal } from '../../components/modal';
import { Alert, ErrorAlert } from '../../components/ui';
import { api, ApiError } from '../../lib/api';
import { formatDateTime, formatRelative } from '../../lib/format';
import { useSession } from '../../lib/session';
import { focusFirstError } from './create-key-dialog';
import { KeyForm } from './key-form';
import { changesAccess, mapServerErrors, stateFromKey, toPatchBody, validateKeyForm, type KeyFormState } from './key-form-model';
import { PolicyRefusal } from './policy-badge';

export function EditKeyDialog({ apiKey, onCancel, onSaved }: { apiKey: ApiKey; onCancel: () => void; onSaved: (key: UpdateApiKeyResponse) => void }) {
  const session = useSession();
  const [state, setState] = useState<KeyFormState>(() => stateFromKey(apiKey));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const body = toPatchBody(state, apiKey, session);
  const touchesAccess = changesAccess(body);
  const nothingChanged = Object.keys(body).length === 0;

  async function submit() {
    const problems = validateKeyForm(state, 'edit');
    setErrors(problems);
    if (Object.keys(problems).length > 0) {
      focusFirstError();
      return;
    }
    if (nothingChanged) {
      onCancel();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      onSaved(await api.patch<UpdateApiKeyResponse>(`/api/api-keys/${encodeURIComponent(apiKey.id)}`, body));
    } catch (err) {
      if (err instanceof ApiError && err.status === 422) {
        setErrors(mapServerErrors(state, err.fieldErrors));
        focusFirstError();
      }
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal
      title={`Edit “${apiKey.name}”`}
      description={<span className="mono">{apiKey.preview}</span>}
      size="large"
      onDismiss={onCancel}
      onSubmit={submit}
      footer={
        <>
          <span className="footer-note">{touchesAccess ? 'Access changes apply immediately.' : nothingChanged ? 'No changes yet.' : null}</span>
          <button type="button" className="button button-secondary" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={busy || nothingChanged}>
            {busy ? 'Saving…' : 'Save changes'}
          </button>
        </>
      }
    >
      <Alert tone="warning" title="Narrowing access can break callers at once">
        <p>
          Changes to permissions, scope, scopes, allowed IP ranges, expiry, rate limits or credits take effect on the key’s next request: anything that relies on removed
          access starts failing immediately.{' '}
          {apiKey.lastUsedAt ? (
            <>
              This key was last used <strong title={formatDateTime(apiKey.lastUsedAt)}>{formatRelative(apiKey.lastUsedAt)}</strong>.
            </>
          ) : (
            <>This key has never been used.</>
          )}
        </p>
      </Alert>
      <KeyForm state={state} onChange={setState} errors={errors} session={session} mode="edit" original={apiKey} />
      {error && !(error instanceof ApiError && error.status === 422) ? <ErrorAlert error={error} title="The key was not saved" /> : null}
      {error instanceof ApiError && error.code === 'policy_violation' ? <PolicyRefusal reasons={error.body.reasons ?? []} /> : null}
    </Modal>
  );
}
