import type { ApiKey } from '@keyward/wire';
import { useId, useState } from 'react';
import { Modal } from '../../components/modal';
import { ErrorAlert } from '../../components/ui';
import { api, ApiError } from '../../lib/api';
import { formatRelative } from '../../lib/format';

/** The API's limit on a revocation reason (one line). */
export const REASON_MAX_LENGTH = 200;

export function RevokeKeyDialog({ apiKey, onCancel, onRevoked }: { apiKey: ApiKey; onCancel: () => void; onRevoked: () => void }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [reason, setReason] = useState('');
  const reasonId = useId();
  const length = reason.trim().length;
  const tooLong = length > REASON_MAX_LENGTH;
  const reasonError = error instanceof ApiError && error.status === 422 ? (error.fieldErrors.reason ?? error.message) : tooLong ? `Use at most ${REASON_MAX_LENGTH} characters.` : undefined;

  async function revoke() {
    if (tooLong) return;
    setBusy(true);
    setError(null);
    try {
      await api.delete(`/api/api-keys/${encodeURIComponent(apiKey.id)}`, reason.trim() ? { reason: reason.trim() } : undefined);
      onRevoked();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal
      role="alertdialog"
      title={`Revoke “${apiKey.name}”?`}
      description={
        <>
          Revoking is <strong>immediate and permanent</strong>: every request made with this key fails from now on, and it cannot be undone.
        </>
      }
      size="small"
      onDismiss={onCancel}
      footer={
        <>
          <button type="button" className="button button-secondary" onClick={onCancel} data-autofocus>
            Cancel
          </button>
          <button type="button" className="button button-danger" onClick={revoke} disabled={busy || tooLong}>
            {busy ? 'Revoking…' : 'Revoke key'}
          </button>
        </>
      }
    >
      <dl className="facts">
        <div>
          <dt>Key</dt>
          <dd className="mono">{apiKey.preview}</dd>
        </div>
        <div>
          <dt>Last used</dt>
          <dd>{apiKey.lastUsedAt ? formatRelative(apiKey.lastUsedAt) : 'Never'}</dd>
        </div>
      </dl>
      <p className="muted">Make sure nothing still depends on it. To keep a caller working, roll the key instead and deploy the new secret.</p>
      <div className={`field${reasonError ? ' field-invalid' : ''}`}>
        <label htmlFor={reasonId} className="field-label">
          Reason<span className="field-optional"> (optional)</span>
        </label>
        <input
          id={reasonId}
          className="input"
          value={reason}
          autoComplete="off"
          placeholder="Laptop stolen, replaced by another key…"
          aria-describedby={`${reasonId}-count${reasonError ? ` ${reasonId}-error` : ''}`}
          aria-invalid={Boolean(reasonError)}
          onChange={(event) => {
            // One line: a pasted line break becomes a space (the API refuses control characters).
            setReason(event.target.value.replace(/[\r\n\t]+/g, ' '));
            if (error instanceof ApiError && error.status === 422) setError(null);
          }}
          onKeyDown={(event) => {
            if (event.key === 'Enter') event.preventDefault();
          }}
        />
        <p id={`${reasonId}-count`} className={`field-hint field-counter${tooLong ? ' over' : ''}`}>
          {length}/{REASON_MAX_LENGTH} characters. Kept with the key and in the audit log; shown to everyone who can see the key.
        </p>
        {reasonError ? (
          <p id={`${reasonId}-error`} className="field-error">
            {reasonError}
          </p>
        ) : null}
      </div>
      {error && !(error instanceof ApiError && error.status === 422) ? <ErrorAlert error={error} title="The key was not revoked" /> : null}
    </Modal>
  );
}
