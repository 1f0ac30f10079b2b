import type { ApiKey, KeyWarning, RollWarning } from '@keyward/wire';
import { useId, useState } from 'react';
import { CopyField } from '../../components/copy-field';
import { Modal } from '../../components/modal';
import { Alert } from '../../components/ui';
import { formatDateTime } from '../../lib/format';

export interface OneTimeSecret {
  readonly token: string;
  readonly apiKey: ApiKey;
  /** Create's warnings, or a roll's (`previous_overlap_ended`). */
  readonly warnings: readonly (KeyWarning | RollWarning)[];
  readonly rolled: boolean;
}

/**
 * The one time a key's secret is on screen. It lives only in this component's props (never in
 * storage or the URL); the dialog cannot be dismissed until the person says they copied it, and
 * closing it unmounts the secret from the page.
 */
/** A key bound to exactly one project (or a project key) carries its project; others name one per request. */
function needsProjectHeader(key: ApiKey): boolean {
  if (key.keyType === 'project') return false;
  return !(key.bindings.length === 1 && key.bindings[0]!.scopeType === 'PROJECT');
}

export function SecretDialog({ secret, onDone }: { secret: OneTimeSecret; onDone: () => void }) {
  const [acknowledged, setAcknowledged] = useState(false);
  const [copied, setCopied] = useState(false);
  const checkId = useId();
  const { apiKey } = secret;
  return (
    <Modal
      title={secret.rolled ? 'Your new secret' : 'Save your API key'}
      description={
        <>
          <strong>{apiKey.name}</strong> · <span className="mono">{apiKey.preview}</span>
        </>
      }
      size="medium"
      footer={
        <button type="button" className="button button-primary" disabled={!acknowledged} onClick={onDone} aria-describedby={acknowledged ? undefined : `${checkId}-why`}>
          Done
        </button>
      }
    >
      <Alert tone="warning" title="This secret will never be shown again">
        <p>Copy it now and store it somewhere safe, such as your secrets manager. Keyward keeps only a hash of it: if you lose it, roll the key to get a new one.</p>
      </Alert>
      <div className="field">
        <label className="field-label" htmlFor={`${checkId}-secret`}>
          Secret key
        </label>
        <CopyField id={`${checkId}-secret`} value={secret.token} label="Secret key" onCopied={() => setCopied(true)} />
      </div>
      {secret.rolled && apiKey.rollOverlapEndsAt ? (
        <p className="muted">The previous secret keeps working until {formatDateTime(apiKey.rollOverlapEndsAt)}.</p>
      ) : secret.rolled ? (
        <p className="muted">The previous secret has stopped working.</p>
      ) : null}
      <div className="usage-hint">
        <p className="field-label">Use it in a request</p>
        <pre className="code-block">
          <code>{`curl ${window.location.origin}/api/auth/whoami \\\n  -H "Authorization: Bearer $API_KEY"`}</code>
        </pre>
        {needsProjectHeader(apiKey) ? (
          <p className="field-hint">
            This key reaches more than one project: where a request is about a project, name it with the <code>X-Project-Id</code> header.
          </p>
        ) : null}
      </div>
      {secret.warnings.map((warning) => (
        <Alert key={warning.code} tone="warning" title={warning.code === 'previous_overlap_ended' ? 'An older secret stopped working' : undefined}>
          <p data-warning={warning.code}>
            {'previousSecretExpiresAt' in warning && warning.previousSecretExpiresAt
              ? `The secret from before the earlier roll would have kept working until ${formatDateTime(warning.previousSecretExpiresAt)}; this roll ended it now.`
              : warning.message}
          </p>
        </Alert>
      ))}
      <label className="check-row acknowledge">
        <input type="checkbox" id={checkId} checked={acknowledged} onChange={(event) => setAcknowledged(event.target.checked)} />
        <span>
          <span className="check-title">I have copied the secret and stored it safely</span>
          <span className="check-hint" id={`${checkId}-why`}>
            {acknowledged ? 'You can close this dialog.' : copied ? 'Copied. Confirm to close this dialog.' : 'Required before you close this dialog.'}
          </span>
        </span>
      </label>
    </Modal>
  );
}
