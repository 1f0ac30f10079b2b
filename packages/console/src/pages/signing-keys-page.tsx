import { useState } from 'react';
import { RefreshIcon, ShieldIcon } from '../components/icons';
import { Modal } from '../components/modal';
import { useToast } from '../components/toast';
import { AdminOnly, Alert, Badge, EmptyState, ErrorAlert, Field, PageHeader, SkeletonRows, usePageTitle, type Tone } from '../components/ui';
import { api, ApiError } from '../lib/api';
import { formatDateTime, formatShortDateTime } from '../lib/format';
import { useSession } from '../lib/session';
import { useApi } from '../lib/use-api';

/** The signing keys contract (GET /api/signing-keys); the wire package may not describe it yet. */
export interface SigningKey {
  readonly id: string;
  readonly algorithm: 'ES256' | 'RS256' | 'EdDSA';
  readonly state: 'next' | 'current' | 'previous' | 'retired';
  readonly createdAt: string | null;
  readonly publishedAt: string | null;
  readonly activatedAt: string | null;
  readonly deactivatedAt: string | null;
  readonly retiredAt: string | null;
  readonly compromisedAt: string | null;
}

const stateOrder = { current: 0, next: 1, previous: 2, retired: 3 } as const;
const stateTone: Record<SigningKey['state'], Tone> = { current: 'success', next: 'info', previous: 'neutral', retired: 'neutral' };
const stateHelp: Record<SigningKey['state'], string> = {
  current: 'Signs new access tokens.',
  next: 'Published in the JWKS ahead of time, so verifiers know it before it signs.',
  previous: 'No longer signs; still verifies the tokens it signed until they expire.',
  retired: 'Neither signs nor verifies.',
};

export function SigningKeysPage() {
  usePageTitle('Signing keys');
  const session = useSession();
  return (
    <>
      <PageHeader
        title="Signing keys"
        description="The keys that sign the organization’s short-lived access tokens (OAuth client credentials). Verifiers fetch their public halves from the JWKS."
      />
      {session.isAdmin ? <SigningKeys /> : <AdminOnly role={session.role} />}
    </>
  );
}

function SigningKeys() {
  const keys = useApi<{ data: SigningKey[] }>('/api/signing-keys');
  const [rotating, setRotating] = useState(false);
  const toast = useToast();

  if (keys.error instanceof ApiError && (keys.error.status === 404 || keys.error.status === 405)) {
    return (
      <EmptyState icon={<ShieldIcon width={24} height={24} />} title="Signing keys are not available on this server">
        This Keyward server does not offer signing key management yet (<code>GET /api/signing-keys</code> is missing). Upgrade the server to see and rotate
        the organization’s signing keys here.
      </EmptyState>
    );
  }
  if (keys.error) return <ErrorAlert error={keys.error} title="Signing keys could not be loaded" onRetry={keys.reload} />;
  const list = keys.data ? [...keys.data.data].sort((a, b) => stateOrder[a.state] - stateOrder[b.state]) : undefined;
  return (
    <>
      <div className="toolbar">
        <p className="muted">Rotate on a schedule, or at once if a key may be compromised.</p>
        <button type="button" className="button button-primary" onClick={() => setRotating(true)} disabled={!list}>
          <RefreshIcon />
          Rotate signing keys
        </button>
      </div>
      {list && list.length === 0 ? (
        <EmptyState icon={<ShieldIcon width={24} height={24} />} title="No signing keys yet">
          The organization gets its signing keys when it is bootstrapped, on the API Keys page.
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table table-dense">
            <caption className="visually-hidden">Signing keys</caption>
            <thead>
              <tr>
                <th scope="col">State</th>
                <th scope="col">Key</th>
                <th scope="col">Published</th>
                <th scope="col">Activated</th>
                <th scope="col">Deactivated</th>
                <th scope="col">Retired</th>
              </tr>
            </thead>
            <tbody>
              {!list ? (
                <SkeletonRows columns={6} rows={3} />
              ) : (
                list.map((key) => (
                  <tr key={key.id}>
                    <td title={stateHelp[key.state]} className="cell-badges">
                      <Badge tone={stateTone[key.state]}>{key.state.charAt(0).toUpperCase() + key.state.slice(1)}</Badge>
                      {key.compromisedAt ? (
                        <>
                          {' '}
                          <Badge tone="danger" title={`Marked compromised ${formatDateTime(key.compromisedAt)}`}>
                            Compromised
                          </Badge>
                        </>
                      ) : null}
                    </td>
                    <td>
                      <code>{key.id}</code>
                      <span className="cell-sub">{key.algorithm}</span>
                    </td>
                    {([key.publishedAt, key.activatedAt, key.deactivatedAt, key.retiredAt] as const).map((at, index) => (
                      <td key={index} className="cell-nowrap" title={at ? formatDateTime(at) : undefined}>
                        {formatShortDateTime(at)}
                      </td>
                    ))}
                  </tr>
                ))
              )}
            </tbody>
          </table>
        </div>
      )}
      <dl className="facts facts-inline state-guide">
        {(['current', 'next', 'previous', 'retired'] as const).map((state) => (
          <div key={state}>
            <dt>{state.charAt(0).toUpperCase() + state.slice(1)}</dt>
            <dd>{stateHelp[state]}</dd>
          </div>
        ))}
      </dl>
      <TokenSettings />
      {rotating ? (
        <RotateDialog
          keys={list ?? []}
          onCancel={() => setRotating(false)}
          onRotated={(emergency) => {
            setRotating(false);
            keys.reload();
            toast(emergency ? 'Emergency rotation done: the old key no longer verifies.' : 'Rotated: the next key now signs.');
          }}
        />
      ) : null}
    </>
  );
}

/** A planned rotation waits until the next key has been published this long (verifiers' caches). */
const PUBLISH_BEFORE_USE_MS = 10 * 60_000;

function RotateDialog({ keys, onCancel, onRotated }: { keys: readonly SigningKey[]; onCancel: () => void; onRotated: (emergency: boolean) => void }) {
  const [emergency, setEmergency] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [now] = useState(() => Date.now());
  const next = keys.find((k) => k.state === 'next');
  const plannedFrom = next?.publishedAt ? new Date(next.publishedAt).getTime() + PUBLISH_BEFORE_USE_MS : null;
  const tooEarly = !emergency && plannedFrom !== null && plannedFrom > now;
  return (
    <Modal
      title="Rotate signing keys"
      role="alertdialog"
      description="The next key becomes current and signs new tokens; the current key becomes previous and keeps verifying the tokens it signed; a new next key is published."
      onDismiss={onCancel}
      onSubmit={async () => {
        setBusy(true);
        setError(null);
        try {
          await api.post('/api/signing-keys/rotate', emergency ? { emergency: true } : {});
          onRotated(emergency);
        } catch (err) {
          setError(err);
          setBusy(false);
        }
      }}
      footer={
        <>
          <button type="button" className="button button-secondary" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" className={`button ${emergency ? 'button-danger' : 'button-primary'}`} disabled={busy || tooEarly}>
            {busy ? 'Rotating…' : emergency ? 'Rotate now (emergency)' : 'Rotate'}
          </button>
        </>
      }
    >
      <label className="check-row">
        <input type="checkbox" checked={emergency} onChange={(e) => setEmergency(e.target.checked)} />
        <span>
          <span className="check-title">Emergency rotation</span>
          <span className="check-hint">Retire the current key at once, for a key that may be compromised.</span>
        </span>
      </label>
      {tooEarly && plannedFrom ? (
        <Alert tone="info" title={`A planned rotation is possible from ${formatDateTime(new Date(plannedFrom))}`}>
          <p>
            The next key must be published for ten minutes first, so that verifiers’ cached key sets know it before it signs. If the current key
            may be compromised, rotate in an emergency instead.
          </p>
        </Alert>
      ) : null}
      {emergency ? (
        <Alert tone="warning" title="Tokens signed by the current key stop working immediately">
          <p>Every client holding one must get a new token. Use this only when the key may have leaked.</p>
        </Alert>
      ) : null}
      {error ? <ErrorAlert error={error} title="Not rotated" /> : null}
    </Modal>
  );
}

interface OrganizationSettings {
  readonly organization: { readonly signingAlgorithm: SigningKey['algorithm']; readonly accessTokenTtlSeconds: number };
}

/** How access tokens are made: the algorithm of the next generated key, and their lifetime. */
function TokenSettings() {
  const settings = useApi<OrganizationSettings>('/api/organization');
  const toast = useToast();
  const [draft, setDraft] = useState<{ signingAlgorithm: string; ttl: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  if (!settings.data) return null;
  const current = settings.data.organization;
  const value = draft ?? { signingAlgorithm: current.signingAlgorithm, ttl: String(current.accessTokenTtlSeconds) };
  const ttl = Number(value.ttl);
  const ttlError = Number.isInteger(ttl) && ttl >= 60 && ttl <= 3600 ? undefined : 'Between 60 and 3600 seconds.';
  const changed = value.signingAlgorithm !== current.signingAlgorithm || ttl !== current.accessTokenTtlSeconds;
  return (
    <section className="card token-settings" aria-labelledby="token-settings-title">
      <h2 id="token-settings-title" className="card-title">
        Access tokens
      </h2>
      <form
        className="settings-row"
        noValidate
        onSubmit={async (event) => {
          event.preventDefault();
          if (ttlError || !changed) return;
          setBusy(true);
          setError(null);
          try {
            await api.patch('/api/organization', {
              ...(value.signingAlgorithm !== current.signingAlgorithm ? { signingAlgorithm: value.signingAlgorithm } : {}),
              ...(ttl !== current.accessTokenTtlSeconds ? { accessTokenTtlSeconds: ttl } : {}),
            });
            setDraft(null);
            settings.reload();
            toast('Saved the access token settings.');
          } catch (err) {
            setError(err);
          } finally {
            setBusy(false);
          }
        }}
      >
        <Field label="Signing algorithm" hint="Applies from the next key generated (at the next rotation).">
          {({ id, describedBy }) => (
            <select id={id} className="select select-medium" aria-describedby={describedBy} value={value.signingAlgorithm} onChange={(e) => setDraft({ ...value, signingAlgorithm: e.target.value })}>
              <option value="ES256">ES256 (ECDSA P-256)</option>
              <option value="EdDSA">EdDSA (Ed25519)</option>
              <option value="RS256">RS256 (RSA)</option>
            </select>
          )}
        </Field>
        <Field label="Token lifetime (seconds)" error={ttlError} hint="Applies to tokens issued from now on.">
          {({ id, describedBy, invalid }) => (
            <input id={id} className="input input-narrow" type="number" min={60} max={3600} step={60} aria-describedby={describedBy} aria-invalid={invalid} value={value.ttl} onChange={(e) => setDraft({ ...value, ttl: e.target.value })} />
          )}
        </Field>
        <div className="field field-action">
          <button type="submit" className="button button-secondary" disabled={busy || !changed || Boolean(ttlError)}>
            {busy ? 'Saving…' : 'Save'}
          </button>
        </div>
      </form>
      {error ? <ErrorAlert error={error} title="Not saved" /> : null}
    </section>
  );
}
