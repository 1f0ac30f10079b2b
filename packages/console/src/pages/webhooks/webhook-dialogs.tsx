import type { CreateWebhookResponse, Webhook } from '@keyward/wire';
import { useId, useState } from 'react';
import { CopyField } from '../../components/copy-field';
import { Modal } from '../../components/modal';
import { Alert, ErrorAlert } from '../../components/ui';
import { api, ApiError } from '../../lib/api';
import { formatDateTime } from '../../lib/format';
import { bodyOf, draftOf, emptyDraft, localErrors, serverErrors, WebhookFields, type WebhookDraft } from './webhook-form';

/** A 422 whose reasons all sit beside their fields needs no banner; anything else does. */
function bannerError(error: unknown): unknown {
  if (error instanceof ApiError && error.status === 422 && Object.keys(serverErrors(error)).length > 0) return null;
  return error;
}

function useWebhookForm(initial: WebhookDraft) {
  const [draft, setDraft] = useState(initial);
  const [error, setError] = useState<unknown>(null);
  const [submitted, setSubmitted] = useState(false);
  const [busy, setBusy] = useState(false);
  const local = localErrors(draft);
  const errors = { ...(submitted ? local : {}), ...serverErrors(error) };
  return {
    draft,
    busy,
    errors,
    banner: bannerError(error),
    change(next: WebhookDraft) {
      setDraft(next);
      // A server reason about a field goes once that field is changed.
      if (error instanceof ApiError && error.status === 422) setError(null);
    },
    async submit(send: () => Promise<void>) {
      setSubmitted(true);
      if (Object.keys(local).length > 0) return;
      setBusy(true);
      setError(null);
      try {
        await send();
      } catch (err) {
        setError(err);
        setBusy(false);
      }
    },
  };
}

export function CreateWebhookDialog({ onCancel, onCreated }: { onCancel: () => void; onCreated: (created: CreateWebhookResponse) => void }) {
  const form = useWebhookForm(emptyDraft);
  return (
    <Modal
      title="Add a webhook endpoint"
      description="Keyward will POST the events you choose to this URL, signed with a secret shown once after you add it."
      size="large"
      onDismiss={onCancel}
      onSubmit={() => void form.submit(async () => onCreated(await api.post<CreateWebhookResponse>('/api/webhooks', bodyOf(form.draft))))}
      footer={
        <>
          <button type="button" className="button button-secondary" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={form.busy}>
            {form.busy ? 'Adding…' : 'Add endpoint'}
          </button>
        </>
      }
    >
      <WebhookFields draft={form.draft} onChange={form.change} errors={form.errors} />
      {form.banner ? <ErrorAlert error={form.banner} title="The endpoint was not added" /> : null}
    </Modal>
  );
}

export function EditWebhookDialog({ webhook, onCancel, onSaved }: { webhook: Webhook; onCancel: () => void; onSaved: () => void }) {
  const form = useWebhookForm(draftOf(webhook));
  const body = bodyOf(form.draft, webhook);
  const changed = Object.keys(body).length > 0;
  return (
    <Modal
      title="Edit webhook endpoint"
      size="large"
      onDismiss={onCancel}
      onSubmit={() =>
        void form.submit(async () => {
          if (changed) await api.patch(`/api/webhooks/${encodeURIComponent(webhook.id)}`, body);
          onSaved();
        })
      }
      footer={
        <>
          <button type="button" className="button button-secondary" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={form.busy || !changed}>
            {form.busy ? 'Saving…' : 'Save'}
          </button>
        </>
      }
    >
      <WebhookFields draft={form.draft} onChange={form.change} errors={form.errors} />
      {form.banner ? <ErrorAlert error={form.banner} title="Not saved" /> : null}
    </Modal>
  );
}

export interface ShownSecret {
  readonly secret: string;
  readonly webhook: Webhook;
  readonly rolled: boolean;
  /** For a roll: when the previous secret stops signing. */
  readonly previousUntil?: Date;
}

/**
 * The one time an endpoint's signing secret is on screen, as for an API key's: it lives only in this
 * component's props, and the dialog closes only once the person says they stored it.
 */
export function WebhookSecretDialog({ shown, onDone }: { shown: ShownSecret; onDone: () => void }) {
  const [acknowledged, setAcknowledged] = useState(false);
  const id = useId();
  return (
    <Modal
      title={shown.rolled ? 'Your new signing secret' : 'Save the signing secret'}
      description={<span className="mono">{shown.webhook.url}</span>}
      footer={
        <button type="button" className="button button-primary" disabled={!acknowledged} onClick={onDone} aria-describedby={acknowledged ? undefined : `${id}-why`}>
          Done
        </button>
      }
    >
      <Alert tone="warning" title="This secret will never be shown again">
        <p>
          Your receiver needs it to check that each request comes from Keyward (the <code>webhook-signature</code> header, Standard Webhooks). Store it
          with the receiver’s configuration now; if you lose it, roll the secret.
        </p>
      </Alert>
      <div className="field">
        <label className="field-label" htmlFor={`${id}-secret`}>
          Signing secret
        </label>
        <CopyField id={`${id}-secret`} value={shown.secret} label="Signing secret" />
      </div>
      {shown.rolled ? (
        <p className="muted">
          For 24 hours{shown.previousUntil ? ` (until ${formatDateTime(shown.previousUntil)})` : ''}, deliveries carry two signatures, one with the
          previous secret and one with this one, so your receiver keeps working while you deploy the new secret.
        </p>
      ) : null}
      <label className="check-row acknowledge">
        <input type="checkbox" id={id} checked={acknowledged} onChange={(event) => setAcknowledged(event.target.checked)} />
        <span>
          <span className="check-title">I have stored this secret</span>
          <span className="check-hint" id={`${id}-why`}>
            {acknowledged ? 'You can close this dialog.' : 'Required before you close this dialog.'}
          </span>
        </span>
      </label>
    </Modal>
  );
}

export function RollWebhookSecretDialog({ webhook, onCancel, onRolled }: { webhook: Webhook; onCancel: () => void; onRolled: (shown: ShownSecret) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  return (
    <Modal
      role="alertdialog"
      title="Roll the signing secret?"
      description="Keyward makes a new secret and shows it once. The current secret keeps signing deliveries for 24 hours beside the new one, so receivers can switch without missing events."
      size="small"
      onDismiss={onCancel}
      footer={
        <>
          <button type="button" className="button button-secondary" onClick={onCancel} data-autofocus>
            Cancel
          </button>
          <button
            type="button"
            className="button button-primary"
            disabled={busy}
            onClick={async () => {
              setBusy(true);
              setError(null);
              try {
                const { secret } = await api.post<{ secret: string }>(`/api/webhooks/${encodeURIComponent(webhook.id)}/roll-secret`);
                onRolled({ secret, webhook, rolled: true, previousUntil: new Date(Date.now() + 24 * 3_600_000) });
              } catch (err) {
                setError(err);
                setBusy(false);
              }
            }}
          >
            {busy ? 'Rolling…' : 'Roll secret'}
          </button>
        </>
      }
    >
      <p className="muted">Rolling again within those 24 hours ends the older secret at once.</p>
      {error ? <ErrorAlert error={error} title="The secret was not rolled" /> : null}
    </Modal>
  );
}

export function DeleteWebhookDialog({ webhook, onCancel, onDeleted }: { webhook: Webhook; onCancel: () => void; onDeleted: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  return (
    <Modal
      role="alertdialog"
      title="Delete this endpoint?"
      description="Keyward stops sending events to it at once, and its delivery log is deleted. This cannot be undone; to pause deliveries instead, disable the endpoint."
      size="small"
      onDismiss={onCancel}
      footer={
        <>
          <button type="button" className="button button-secondary" onClick={onCancel} data-autofocus>
            Cancel
          </button>
          <button
            type="button"
            className="button button-danger"
            disabled={busy}
            onClick={async () => {
              setBusy(true);
              setError(null);
              try {
                await api.delete(`/api/webhooks/${encodeURIComponent(webhook.id)}`);
                onDeleted();
              } catch (err) {
                setError(err);
                setBusy(false);
              }
            }}
          >
            {busy ? 'Deleting…' : 'Delete endpoint'}
          </button>
        </>
      }
    >
      <p className="mono break-all">{webhook.url}</p>
      {error ? <ErrorAlert error={error} title="The endpoint was not deleted" /> : null}
    </Modal>
  );
}
