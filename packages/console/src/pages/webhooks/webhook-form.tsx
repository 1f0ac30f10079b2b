import type { Webhook } from '@keyward/wire';
import { useId } from 'react';
import { Field } from '../../components/ui';
import { ApiError } from '../../lib/api';

/** The events an endpoint may subscribe to (CONTRACT.md "Webhooks"), grouped as the picker shows them. */
export const eventGroups: readonly { readonly title: string; readonly events: readonly { readonly type: string; readonly help: string }[] }[] = [
  {
    title: 'Key events',
    events: [
      { type: 'api_key.created', help: 'A key was created.' },
      { type: 'api_key.updated', help: 'A key’s name, permissions, expiry or allowlist changed.' },
      { type: 'api_key.rolled', help: 'A key got a new secret.' },
      { type: 'api_key.revoked', help: 'A key was revoked, by a person or an API call.' },
      { type: 'api_key.leaked', help: 'GitHub found a key in public code; Keyward revoked it.' },
      { type: 'api_key.expiring', help: 'Once 7 days and once 1 day before a key expires.' },
      { type: 'api_key.expired', help: 'A key’s expiry date passed.' },
      { type: 'api_key.credits_exhausted', help: 'A key used up its credits.' },
    ],
  },
  {
    title: 'Member events',
    events: [
      { type: 'member.added', help: 'Someone joined the organization.' },
      { type: 'member.removed', help: 'Someone was removed from the organization.' },
      { type: 'member.role_changed', help: 'A member’s role changed.' },
    ],
  },
  {
    title: 'Signing keys',
    events: [{ type: 'signing_key.rotated', help: 'The keys that sign access tokens were rotated.' }],
  },
  {
    title: 'Test',
    events: [{ type: 'webhook.test', help: 'Sent only when you press “Send test event”.' }],
  },
];

const knownOrder = eventGroups.flatMap((group) => group.events.map((event) => event.type));

export const DESCRIPTION_MAX = 500;

export interface WebhookDraft {
  readonly url: string;
  readonly description: string;
  /** Event types, or just `*`. */
  readonly events: readonly string[];
}

export const emptyDraft: WebhookDraft = { url: '', description: '', events: [] };

export function draftOf(webhook: Webhook): WebhookDraft {
  return { url: webhook.url, description: webhook.description ?? '', events: webhook.events };
}

/** "All events" or the list, for tables. */
export function describeEvents(events: readonly string[]): string {
  if (events.includes('*')) return 'All events';
  return events.join(', ');
}

/** Checks made before asking the server (which checks everything again, and the address too). */
export function localErrors(draft: WebhookDraft): Record<string, string> {
  const errors: Record<string, string> = {};
  const url = draft.url.trim();
  if (!url) errors.url = 'Enter the URL Keyward should POST events to.';
  else if (!/^https?:\/\/[^\s/]+/i.test(url)) errors.url = 'Use an http:// or https:// URL, such as https://example.com/hooks/keyward.';
  if (draft.events.length === 0) errors.events = 'Choose at least one event, or all events.';
  if (draft.description.length > DESCRIPTION_MAX) errors.description = `Use at most ${DESCRIPTION_MAX} characters.`;
  return errors;
}

/** The server's per-field reasons of a 422 (`url`, `events`, `events[2]`, `description`), by field. */
export function serverErrors(error: unknown): Record<string, string> {
  if (!(error instanceof ApiError) || error.status !== 422) return {};
  const out: Record<string, string> = {};
  for (const [path, message] of Object.entries(error.fieldErrors)) {
    const field = path.replace(/[[.].*$/, '');
    if (field === 'url' || field === 'events' || field === 'description') out[field] ??= message;
  }
  return out;
}

/** The body of a create or a PATCH: only what changed, for a PATCH. */
export function bodyOf(draft: WebhookDraft, before?: Webhook): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const url = draft.url.trim();
  const description = draft.description.trim() || null;
  const events = [...draft.events];
  if (!before || url !== before.url) body.url = url;
  if (!before ? description !== null : description !== before.description) body.description = description;
  if (!before || events.join() !== before.events.join()) body.events = events;
  return body;
}

export function WebhookFields({ draft, onChange, errors }: { draft: WebhookDraft; onChange: (draft: WebhookDraft) => void; errors: Record<string, string> }) {
  return (
    <>
      <Field
        label="Endpoint URL"
        error={errors.url}
        hint="Keyward sends each event as a signed POST with a JSON body to this address. Private and loopback addresses are refused unless the server allows them."
      >
        {({ id, describedBy, invalid }) => (
          <input
            id={id}
            className="input input-mono"
            type="url"
            inputMode="url"
            autoComplete="off"
            spellCheck={false}
            placeholder="https://example.com/hooks/keyward"
            aria-describedby={describedBy}
            aria-invalid={invalid}
            value={draft.url}
            data-autofocus
            onChange={(event) => onChange({ ...draft, url: event.target.value })}
          />
        )}
      </Field>
      <Field label="Description" optional error={errors.description} hint="What receives these events, so that others know whom to ask before changing it.">
        {({ id, describedBy, invalid }) => (
          <input
            id={id}
            className="input"
            autoComplete="off"
            maxLength={DESCRIPTION_MAX + 50}
            aria-describedby={describedBy}
            aria-invalid={invalid}
            value={draft.description}
            onChange={(event) => onChange({ ...draft, description: event.target.value.replace(/[\r\n\t]+/g, ' ') })}
          />
        )}
      </Field>
      <EventsPicker events={draft.events} onChange={(events) => onChange({ ...draft, events })} error={errors.events} />
    </>
  );
}

function EventsPicker({ events, onChange, error }: { events: readonly string[]; onChange: (events: string[]) => void; error: string | undefined }) {
  const id = useId();
  const all = events.includes('*');
  const chosen = new Set(events);
  const toggle = (type: string, on: boolean) => {
    const next = new Set(chosen);
    if (on) next.add(type);
    else next.delete(type);
    // Events this console does not know (a newer server's) stay as they were.
    onChange([...knownOrder.filter((t) => next.has(t)), ...[...next].filter((t) => t !== '*' && !knownOrder.includes(t))]);
  };
  return (
    <fieldset className={`fieldset form-section${error ? ' field-invalid' : ''}`} aria-describedby={`${id}-hint${error ? ` ${id}-error` : ''}`}>
      <legend className="section-title">Events</legend>
      <p id={`${id}-hint`} className="field-hint">
        Keyward sends only the events you choose. Receivers should ignore types they do not know.
      </p>
      <label className="check-row">
        <input type="checkbox" checked={all} onChange={(event) => onChange(event.target.checked ? ['*'] : [])} />
        <span>
          <span className="check-title">All events (*)</span>
          <span className="check-hint">Every event, including ones added in later versions of Keyward.</span>
        </span>
      </label>
      {eventGroups.map((group) => (
        <fieldset key={group.title} className="fieldset event-group" disabled={all}>
          <legend className="field-label">{group.title}</legend>
          <div className="check-list event-list">
            {group.events.map((event) => (
              <label key={event.type} className={`check-row${all ? ' is-disabled' : ''}`}>
                <input type="checkbox" checked={all || chosen.has(event.type)} onChange={(e) => toggle(event.type, e.target.checked)} />
                <span>
                  <code className="check-title">{event.type}</code>
                  <span className="check-hint">{event.help}</span>
                </span>
              </label>
            ))}
          </div>
        </fieldset>
      ))}
      {error ? (
        <p id={`${id}-error`} className="field-error">
          {error}
        </p>
      ) : null}
    </fieldset>
  );
}
