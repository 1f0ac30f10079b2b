import type { ApiKey } from '@keyward/wire';
import { useState } from 'react';
import { Modal } from '../../components/modal';
import { ErrorAlert } from '../../components/ui';
import { api } from '../../lib/api';
import { formatRelative } from '../../lib/format';

export function RevokeKeyDialog({ apiKey, onCancel, onRevoked }: { apiKey: ApiKey; onCancel: () => void; onRevoked: () => void }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function revoke() {
    setBusy(true);
    setError(null);
    try {
      await api.delete(`/api/api-keys/${encodeURIComponent(apiKey.id)}`);
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
          <button type="button" className="button button-danger" onClick={revoke} disabled={busy}>
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
      {error ? <ErrorAlert error={error} title="The key was not revoked" /> : null}
    </Modal>
  );
}
