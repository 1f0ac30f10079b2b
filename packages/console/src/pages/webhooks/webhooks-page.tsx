import type { Webhook } from '@keyward/wire';
import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { PlusIcon, SendIcon } from '../../components/icons';
import { useToast } from '../../components/toast';
import { Badge, EmptyState, ErrorAlert, PageHeader, SkeletonRows, usePageTitle } from '../../components/ui';
import { formatDate, formatDateTime, roleLabel } from '../../lib/format';
import { useSession } from '../../lib/session';
import { useApi } from '../../lib/use-api';
import { CreateWebhookDialog, WebhookSecretDialog, type ShownSecret } from './webhook-dialogs';
import { describeEvents } from './webhook-form';

export const webhooksIntro =
  'Webhooks tell your systems what happens to keys as it happens: Keyward POSTs a signed event to your URL when a key is created, rolled, revoked, leaked or about to expire, and when members or signing keys change.';

export function WebhooksPage() {
  usePageTitle('Webhooks');
  const session = useSession();
  return (
    <>
      <PageHeader title="Webhooks" description={webhooksIntro} />
      {session.isAdmin ? (
        <WebhookList />
      ) : (
        <EmptyState title="You cannot manage webhooks">
          Only owners and admins see and change the organization’s webhook endpoints. Your role here is {roleLabel(session.role)}.
        </EmptyState>
      )}
    </>
  );
}

/** Enabled, or disabled with Keyward's reason when it disabled the endpoint itself. */
export function EnabledBadge({ webhook }: { webhook: Webhook }) {
  if (webhook.enabled) return <Badge tone="success">Enabled</Badge>;
  return (
    <Badge tone={webhook.disabledReason ? 'warning' : 'neutral'} title={webhook.disabledReason ?? 'Disabled by a person'}>
      Disabled
    </Badge>
  );
}

function WebhookList() {
  const list = useApi<{ data: Webhook[]; nextCursor: string | null }>('/api/webhooks?limit=100');
  const [creating, setCreating] = useState(false);
  const [shown, setShown] = useState<ShownSecret | null>(null);
  const navigate = useNavigate();
  const toast = useToast();
  const webhooks = list.data?.data;

  const createButton = (
    <button type="button" className="button button-primary" onClick={() => setCreating(true)}>
      <PlusIcon />
      Add endpoint
    </button>
  );

  return (
    <>
      {list.error ? (
        <ErrorAlert error={list.error} title="Webhooks could not be loaded" onRetry={list.reload} />
      ) : webhooks && webhooks.length === 0 ? (
        <EmptyState icon={<SendIcon width={24} height={24} />} title="No webhook endpoints yet" action={createButton}>
          Add an endpoint to have Keyward tell your systems about key events (created, revoked, leaked, expiring…) as they happen, instead of
          watching this console. Each request is signed, so your receiver can check that it comes from Keyward.
        </EmptyState>
      ) : (
        <>
          <div className="toolbar">
            <p className="muted">Each endpoint receives the events it subscribes to, signed with its own secret.</p>
            {createButton}
          </div>
          <div className="table-wrap">
            <table className="table" aria-busy={list.loading}>
              <caption className="visually-hidden">Webhook endpoints</caption>
              <thead>
                <tr>
                  <th scope="col">URL</th>
                  <th scope="col">Events</th>
                  <th scope="col">Status</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {!webhooks ? (
                  <SkeletonRows columns={4} rows={3} />
                ) : (
                  webhooks.map((webhook) => (
                    <tr key={webhook.id}>
                      <td className="cell-url">
                        <Link to={`/settings/webhooks/${encodeURIComponent(webhook.id)}`} className="row-link mono">
                          {webhook.url}
                        </Link>
                        {webhook.description ? <span className="cell-sub">{webhook.description}</span> : null}
                      </td>
                      <td className="cell-events">{describeEvents(webhook.events)}</td>
                      <td>
                        <EnabledBadge webhook={webhook} />
                        {!webhook.enabled && webhook.disabledReason ? <span className="cell-sub">{webhook.disabledReason}</span> : null}
                      </td>
                      <td className="cell-nowrap" title={formatDateTime(webhook.createdAt)}>
                        {formatDate(webhook.createdAt)}
                      </td>
                    </tr>
                  ))
                )}
              </tbody>
            </table>
          </div>
        </>
      )}
      {creating ? (
        <CreateWebhookDialog
          onCancel={() => setCreating(false)}
          onCreated={(created) => {
            setCreating(false);
            list.reload();
            setShown({ secret: created.secret, webhook: created.webhook, rolled: false });
          }}
        />
      ) : null}
      {shown ? (
        <WebhookSecretDialog
          shown={shown}
          onDone={() => {
            const id = shown.webhook.id;
            setShown(null);
            toast('Endpoint added. Send it a test event to check your receiver.');
            navigate(`/settings/webhooks/${encodeURIComponent(id)}`);
          }}
        />
      ) : null}
    </>
  );
}
