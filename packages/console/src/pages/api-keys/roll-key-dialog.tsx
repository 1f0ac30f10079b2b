import type { ApiKey, RollApiKeyResponse } from '@keyward/wire';
import { useState } from 'react';
import { Modal } from '../../components/modal';
import { Alert, ErrorAlert } from '../../components/ui';
import { api, ApiError } from '../../lib/api';
import { formatDateTime, formatRelative } from '../../lib/format';
import { rollOverlaps } from '../../lib/keys';
import { useApi } from '../../lib/use-api';
import { PolicyRefusal } from './policy-badge';

export function RollKeyDialog({ apiKey, onCancel, onRolled }: { apiKey: ApiKey; onCancel: () => void; onRolled: (answer: RollApiKeyResponse) => void }) {
  const [choice, setChoice] = useState<(typeof rollOverlaps)[number]['id']>('now');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [now] = useState(() => Date.now());
  const expiresAt = apiKey.expiresAt ? new Date(apiKey.expiresAt).getTime() : null;
  // The list may be a while old: ask again whether an earlier roll's overlap is still running.
  const fresh = useApi<ApiKey>(`/api/api-keys/${encodeURIComponent(apiKey.id)}`);
  const overlapEndsAt = (fresh.data ?? apiKey).rollOverlapEndsAt;
  const overlapRunning = overlapEndsAt !== null && new Date(overlapEndsAt).getTime() > now;

  async function submit() {
    const overlap = rollOverlaps.find((o) => o.id === choice)!;
    setBusy(true);
    setError(null);
    try {
      const body = overlap.seconds > 0 ? { oldKeyExpiresAt: new Date(Date.now() + overlap.seconds * 1000).toISOString() } : {};
      onRolled(await api.post<RollApiKeyResponse>(`/api/api-keys/${encodeURIComponent(apiKey.id)}/roll`, body));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal
      title={`Roll “${apiKey.name}”`}
      description="Rolling gives the key a new secret. Its id, name, access and usage history stay the same."
      onDismiss={onCancel}
      onSubmit={submit}
      footer={
        <>
          <button type="button" className="button button-secondary" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={busy}>
            {busy ? 'Rolling…' : 'Roll key'}
          </button>
        </>
      }
    >
      {overlapRunning ? (
        <Alert tone="warning" title="An earlier roll’s old secret still works">
          <p data-testid="roll-overlap-warning">
            The secret this key had before its last roll keeps working until {formatDateTime(overlapEndsAt)} ({formatRelative(overlapEndsAt)}). Rolling again
            ends that older secret <strong>at once</strong>, instead of then: anything still using it stops working now. The current secret stops when you
            choose below.
          </p>
        </Alert>
      ) : null}
      <fieldset className="fieldset">
        <legend className="field-label">When should the current secret stop working?</legend>
        <div className="radio-list">
          {rollOverlaps.map((overlap) => {
            const tooLate = expiresAt !== null && overlap.seconds > 0 && now + overlap.seconds * 1000 > expiresAt;
            return (
              <label key={overlap.id} className={`radio${tooLate ? ' is-disabled' : ''}`}>
                <input type="radio" name="roll-overlap" value={overlap.id} checked={choice === overlap.id} disabled={tooLate} onChange={() => setChoice(overlap.id)} data-autofocus={choice === overlap.id ? true : undefined} />
                <span>
                  <span className="check-title">{overlap.label}</span>
                  <span className="check-hint">{tooLate ? `Unavailable: the key itself expires ${formatDateTime(apiKey.expiresAt)}.` : overlap.hint}</span>
                </span>
              </label>
            );
          })}
        </div>
      </fieldset>
      <p className="muted">The new secret is shown once, on the next screen.</p>
      {error instanceof ApiError && error.code === 'policy_violation' ? (
        <PolicyRefusal reasons={error.body.reasons ?? []} />
      ) : error ? (
        <ErrorAlert error={error} title="The key was not rolled" />
      ) : null}
    </Modal>
  );
}
