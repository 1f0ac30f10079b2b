import type { Webhook, WebhookDelivery, WebhookDeliveryList } from '@keyward/wire';
import { useEffect, useState, type ReactNode } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { ChevronLeftIcon, RefreshIcon, SendIcon } from '../../components/icons';
import { useToast } from '../../components/toast';
import { Alert, Badge, EmptyState, ErrorAlert, LoadingBlock, PageHeader, SkeletonRows, usePageTitle, type Tone } from '../../components/ui';
import { api, ApiError, errorMessage, query } from '../../lib/api';
import { formatDateTime, formatRelative, roleLabel } from '../../lib/format';
import { useSession } from '../../lib/session';
import { useApi } from '../../lib/use-api';
import { DeleteWebhookDialog, EditWebhookDialog, RollWebhookSecretDialog, WebhookSecretDialog, type ShownSecret } from './webhook-dialogs';
import { EnabledBadge } from './webhooks-page';

const DELIVERIES_PER_PAGE = 20;
/** While a delivery on screen is due soon or being sent, the log looks again this often... */
const DUE_POLL_MS = 1000;
/** ...and while one is pending later (a retry minutes or hours away), this often. */
const PENDING_POLL_MS = 15_000;
/**
 * What counts as soon. A delivery being sent shows the end of its sender's lease as its next attempt
 * (the send timeout, at most 60 s, plus 30 s), so anything due within two minutes may be underway now.
 */
const SOON_MS = 120_000;

export function WebhookDetailPage() {
  const session = useSession();
  const back = (
    <Link to="/settings/webhooks" className="back-link">
      <ChevronLeftIcon />
      Webhooks
    </Link>
  );
  if (!session.isAdmin) {
    return (
      <>
        {back}
        <PageHeader title="Webhook endpoint" />
        <EmptyState title="You cannot manage webhooks">
          Only owners and admins see and change the organization’s webhook endpoints. Your role here is {roleLabel(session.role)}.
        </EmptyState>
      </>
    );
  }
  return <WebhookDetail back={back} />;
}

type DialogState = { kind: 'edit' | 'roll' | 'delete' } | { kind: 'secret'; shown: ShownSecret } | null;

function WebhookDetail({ back }: { back: ReactNode }) {
  const { id = '' } = useParams();
  const path = `/api/webhooks/${encodeURIComponent(id)}`;
  const loaded = useApi<{ webhook: Webhook }>(path);
  const [dialog, setDialog] = useState<DialogState>(null);
  const [busy, setBusy] = useState<'toggle' | 'test' | null>(null);
  const [logVersion, setLogVersion] = useState(0);
  const toast = useToast();
  const navigate = useNavigate();
  usePageTitle('Webhook endpoint');

  if (loaded.error) {
    const missing = loaded.error instanceof ApiError && loaded.error.status === 404;
    return (
      <>
        {back}
        <PageHeader title={missing ? 'Endpoint not found' : 'Webhook endpoint'} />
        {missing ? (
          <EmptyState title="There is no webhook endpoint with this id." action={<Link to="/settings/webhooks" className="button button-secondary">Back to Webhooks</Link>} />
        ) : (
          <ErrorAlert error={loaded.error} onRetry={loaded.reload} />
        )}
      </>
    );
  }
  if (!loaded.data) {
    return (
      <>
        {back}
        <PageHeader title={<span className="skeleton skeleton-title" aria-label="Loading" />} />
        <LoadingBlock height={420} />
      </>
    );
  }
  const webhook = loaded.data.webhook;

  async function toggle() {
    setBusy('toggle');
    try {
      await api.patch(path, { enabled: !webhook.enabled });
      loaded.reload();
      toast(webhook.enabled ? 'Endpoint disabled: Keyward sends it nothing until you enable it.' : 'Endpoint enabled.');
    } catch (err) {
      toast(errorMessage(err), 'danger');
    } finally {
      setBusy(null);
    }
  }

  async function sendTest() {
    setBusy('test');
    try {
      await api.post(`${path}/test`);
      setLogVersion((v) => v + 1);
      toast('Test event queued: it appears in the delivery log below.');
    } catch (err) {
      toast(errorMessage(err), 'danger');
    } finally {
      setBusy(null);
    }
  }

  return (
    <>
      {back}
      <PageHeader
        title={
          <>
            <span className="webhook-title">{webhook.url}</span> <EnabledBadge webhook={webhook} />
          </>
        }
        description={webhook.description ?? undefined}
        actions={
          <>
            <button type="button" className="button button-secondary" onClick={sendTest} disabled={busy !== null || !webhook.enabled} title={webhook.enabled ? undefined : 'Enable the endpoint first'}>
              <SendIcon />
              {busy === 'test' ? 'Sending…' : 'Send test event'}
            </button>
            <button type="button" className="button button-secondary" onClick={() => setDialog({ kind: 'edit' })}>
              Edit
            </button>
            <button type="button" className="button button-secondary" onClick={toggle} disabled={busy !== null}>
              {webhook.enabled ? 'Disable' : 'Enable'}
            </button>
            <button type="button" className="button button-secondary" onClick={() => setDialog({ kind: 'roll' })}>
              Roll secret
            </button>
            <button type="button" className="button button-danger-outline" onClick={() => setDialog({ kind: 'delete' })}>
              Delete
            </button>
          </>
        }
      />
      {!webhook.enabled ? (
        <Alert tone="warning" title="This endpoint is disabled">
          <p>
            {webhook.disabledReason
              ? `Keyward disabled it: ${webhook.disabledReason}. Fix the receiver, then enable it again.`
              : 'Keyward sends it no events until it is enabled again; events meanwhile are not kept for it.'}
          </p>
        </Alert>
      ) : null}
      <section className="card" aria-labelledby="webhook-details-title">
        <h2 id="webhook-details-title" className="card-title">
          Details
        </h2>
        <dl className="facts">
          <Fact label="URL">
            <code className="break-all">{webhook.url}</code>
          </Fact>
          <Fact label="Events">
            {webhook.events.includes('*') ? (
              'All events (*)'
            ) : (
              <ul className="chips" aria-label="Events">
                {webhook.events.map((event) => (
                  <li key={event} className="chip mono">
                    {event}
                  </li>
                ))}
              </ul>
            )}
          </Fact>
          <Fact label="Id">
            <code>{webhook.id}</code>
          </Fact>
          <Fact label="Created">{formatDateTime(webhook.createdAt)}</Fact>
        </dl>
      </section>
      <DeliveryLog webhookId={webhook.id} version={logVersion} />
      {dialog?.kind === 'edit' ? (
        <EditWebhookDialog
          webhook={webhook}
          onCancel={() => setDialog(null)}
          onSaved={() => {
            setDialog(null);
            loaded.reload();
            toast('Endpoint saved.');
          }}
        />
      ) : null}
      {dialog?.kind === 'roll' ? <RollWebhookSecretDialog webhook={webhook} onCancel={() => setDialog(null)} onRolled={(shown) => setDialog({ kind: 'secret', shown })} /> : null}
      {dialog?.kind === 'secret' ? (
        <WebhookSecretDialog
          shown={dialog.shown}
          onDone={() => {
            setDialog(null);
            toast('Secret rolled: the previous one keeps signing for 24 hours.');
          }}
        />
      ) : null}
      {dialog?.kind === 'delete' ? (
        <DeleteWebhookDialog
          webhook={webhook}
          onCancel={() => setDialog(null)}
          onDeleted={() => {
            setDialog(null);
            toast('Endpoint deleted.');
            navigate('/settings/webhooks');
          }}
        />
      ) : null}
    </>
  );
}

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

const statusTone: Record<WebhookDelivery['status'], Tone> = { pending: 'info', succeeded: 'success', failed: 'danger' };
const statusLabel: Record<WebhookDelivery['status'], string> = { pending: 'Pending', succeeded: 'Succeeded', failed: 'Failed' };

/** Newest first, a page at a time (`nextCursor`); looked at again while something on screen is pending. */
function DeliveryLog({ webhookId, version }: { webhookId: string; version: number }) {
  // The cursors of the pages before this one, to go back.
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const log = useApi<WebhookDeliveryList>(`/api/webhooks/${encodeURIComponent(webhookId)}/deliveries${query({ limit: DELIVERIES_PER_PAGE, cursor })}`, { keepPrevious: true });
  const [retrying, setRetrying] = useState<string | null>(null);
  const toast = useToast();
  const { reload } = log;
  const deliveries = log.data?.data;
  const pending = deliveries?.filter((d) => d.status === 'pending') ?? [];
  const pollMs =
    pending.length === 0
      ? null
      : pending.some((d) => !d.nextAttemptAt || Date.parse(d.nextAttemptAt) - Date.now() < SOON_MS)
        ? DUE_POLL_MS
        : PENDING_POLL_MS;

  useEffect(() => {
    if (version > 0) {
      setCursors([undefined]);
      reload();
    }
  }, [version, reload]);
  // One look at a time: the next is planned when an answer has come, so a slow answer is never cut off
  // by the next look (an interval shorter than the answer's time would abort every request).
  useEffect(() => {
    if (pollMs === null || log.loading) return;
    const timer = window.setTimeout(reload, pollMs);
    return () => window.clearTimeout(timer);
  }, [pollMs, reload, log.loading, log.data]);

  async function retry(delivery: WebhookDelivery) {
    setRetrying(delivery.id);
    try {
      await api.post(`/api/webhooks/${encodeURIComponent(webhookId)}/deliveries/${encodeURIComponent(delivery.id)}/retry`);
      toast('Retrying now.');
      reload();
    } catch (err) {
      toast(errorMessage(err), 'danger');
    } finally {
      setRetrying(null);
    }
  }

  return (
    <section className="card delivery-log" aria-labelledby="delivery-log-title">
      <div className="card-header">
        <h2 id="delivery-log-title" className="card-title">
          Delivery log
        </h2>
        <button type="button" className="button button-ghost button-small" onClick={reload} disabled={log.loading}>
          <RefreshIcon />
          Refresh
        </button>
      </div>
      <p className="muted">
        Every event sent to this endpoint, newest first, with each attempt. Failed attempts are retried with backoff for about 24 hours; Retry sends one
        again now, with the same <code>webhook-id</code>.
      </p>
      {log.error ? (
        <ErrorAlert error={log.error} title="The delivery log could not be loaded" onRetry={reload} />
      ) : deliveries && deliveries.length === 0 && cursors.length === 1 ? (
        <EmptyState title="Nothing delivered yet">Events this endpoint subscribes to appear here as they happen. Send a test event to try your receiver.</EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table table-dense" aria-busy={log.loading}>
            <caption className="visually-hidden">Deliveries</caption>
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
                <th scope="col">Next attempt</th>
                <th scope="col">Attempts</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {!deliveries ? (
                <SkeletonRows columns={6} rows={3} />
              ) : (
                deliveries.map((delivery) => (
                  <tr key={delivery.id} data-delivery={delivery.id}>
                    <td>
                      <code>{delivery.eventType}</code>
                      <span className="cell-sub mono" title="The webhook-id header of every attempt">
                        {delivery.eventId}
                      </span>
                    </td>
                    <td>
                      <Badge tone={statusTone[delivery.status]}>{statusLabel[delivery.status]}</Badge>
                    </td>
                    <td className="cell-nowrap" title={formatDateTime(delivery.createdAt)}>
                      {formatRelative(delivery.createdAt)}
                    </td>
                    <td className="cell-nowrap" title={delivery.nextAttemptAt ? formatDateTime(delivery.nextAttemptAt) : undefined}>
                      {delivery.nextAttemptAt ? formatRelative(delivery.nextAttemptAt) : '—'}
                    </td>
                    <td>
                      {delivery.attempts.length === 0 ? (
                        <span className="muted">None yet</span>
                      ) : (
                        <ol className="attempts" aria-label={`Attempts of ${delivery.eventType}`}>
                          {delivery.attempts.map((attempt, index) => (
                            <li key={index} className={attempt.statusCode !== null && attempt.statusCode >= 200 && attempt.statusCode < 300 ? 'attempt-ok' : 'attempt-failed'}>
                              <span className="attempt-at" title={formatDateTime(attempt.at)}>
                                {formatDateTime(attempt.at)}
                              </span>
                              <span className="attempt-result">{attempt.statusCode !== null ? `HTTP ${attempt.statusCode}` : 'No response'}</span>
                              <span className="attempt-duration">{attempt.durationMs} ms</span>
                              {attempt.error ? <span className="attempt-error">{attempt.error}</span> : null}
                            </li>
                          ))}
                        </ol>
                      )}
                    </td>
                    <td className="cell-actions">
                      {delivery.status !== 'succeeded' ? (
                        <button
                          type="button"
                          className="button button-secondary button-small"
                          onClick={() => void retry(delivery)}
                          disabled={retrying !== null}
                          aria-label={`Retry ${delivery.eventType} delivery`}
                        >
                          {retrying === delivery.id ? 'Retrying…' : 'Retry'}
                        </button>
                      ) : null}
                    </td>
                  </tr>
                ))
              )}
            </tbody>
          </table>
        </div>
      )}
      {cursors.length > 1 || log.data?.nextCursor ? (
        <div className="pager">
          <button type="button" className="button button-secondary button-small" disabled={cursors.length <= 1} onClick={() => setCursors((list) => list.slice(0, -1))}>
            Newer
          </button>
          <button
            type="button"
            className="button button-secondary button-small"
            disabled={!log.data?.nextCursor}
            onClick={() => {
              const next = log.data?.nextCursor;
              if (next) setCursors((list) => [...list, next]);
            }}
          >
            Older
          </button>
        </div>
      ) : null}
    </section>
  );
}
