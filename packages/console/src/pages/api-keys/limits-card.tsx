import type { ApiKey, RateLimit } from '@keyward/wire';
import { useState } from 'react';
import { useToast } from '../../components/toast';
import { Badge } from '../../components/ui';
import { formatNumber } from '../../lib/format';
import { canChangeCredits } from '../../lib/keys';
import { useSession } from '../../lib/session';
import { ChangeCreditsDialog } from './change-credits-dialog';
import { currentWindowPhrase, describeWindow, NEAR_LIMIT_SHARE } from './limits-model';

const utcTime = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: 'UTC' });
const utcTimeSeconds = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', timeZone: 'UTC' });
const utcDay = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });

/** "12:01 UTC", "12:01:30 UTC" for windows that end off the minute, "Dec 8, 00:00 UTC" on another UTC day. */
export function formatResetAt(at: Date, windowSeconds: number, now = new Date()): string {
  const time = (windowSeconds % 60 === 0 ? utcTime : utcTimeSeconds).format(at);
  const sameDay = at.toISOString().slice(0, 10) === now.toISOString().slice(0, 10);
  return `${sameDay ? '' : `${utcDay.format(at)}, `}${time} UTC`;
}

interface WindowUse {
  readonly used: number;
  readonly resetAt: Date;
}

/**
 * A limit's current window as the server counted it when the key was read. Once that window has ended
 * (the page stayed open), the next one has started empty: windows are aligned on multiples of their
 * length since the Unix epoch.
 */
function windowUse(key: ApiKey, limit: RateLimit, now = Date.now()): WindowUse {
  const use = key.rateLimitUse.find((u) => u.name === limit.name);
  if (use && new Date(use.resetAt).getTime() > now) return { used: use.used, resetAt: new Date(use.resetAt) };
  const length = limit.windowSeconds * 1000;
  return { used: 0, resetAt: new Date((Math.floor(now / length) + 1) * length) };
}

/** The key's rate limits with each window's use, and its credits; owners and admins change the credits here. */
export function LimitsCard({ apiKey, refreshing, onChanged }: { apiKey: ApiKey; refreshing: boolean; onChanged: () => void }) {
  const session = useSession();
  const toast = useToast();
  const [changing, setChanging] = useState(false);
  const mayChange = canChangeCredits(session) && apiKey.status !== 'revoked' && apiKey.credits !== null;
  return (
    <section className="card limits-card" aria-labelledby="limits-title">
      <div className="card-header">
        <h2 id="limits-title" className="card-title">
          Limits
        </h2>
        <div className="card-actions">
          {mayChange ? (
            <button type="button" className="button button-secondary button-small" onClick={() => setChanging(true)}>
              Change credits
            </button>
          ) : null}
          <button type="button" className="button button-secondary button-small" onClick={onChanged} disabled={refreshing} aria-label="Refresh limits">
            {refreshing ? 'Refreshing…' : 'Refresh'}
          </button>
        </div>
      </div>
      <div className="limits-columns" aria-busy={refreshing || undefined}>
        <div>
          <h3 className="subheading">Rate limits</h3>
          {apiKey.rateLimits.length === 0 ? (
            <p className="muted">None: requests are never refused for their rate.</p>
          ) : (
            <ul className="limit-uses" aria-label="Rate limits">
              {apiKey.rateLimits.map((limit) => (
                <LimitUse key={limit.name} limit={limit} use={windowUse(apiKey, limit)} />
              ))}
            </ul>
          )}
        </div>
        <div>
          <h3 className="subheading">Credits</h3>
          <CreditsSummary apiKey={apiKey} />
        </div>
      </div>
      {changing ? (
        <ChangeCreditsDialog
          apiKey={apiKey}
          onCancel={() => setChanging(false)}
          onChanged={(remaining) => {
            setChanging(false);
            toast(`“${apiKey.name}” has ${formatNumber(remaining)} credits left.`);
            onChanged();
          }}
        />
      ) : null}
    </section>
  );
}

function LimitUse({ limit, use }: { limit: RateLimit; use: WindowUse }) {
  const share = Math.min(1, use.used / limit.limit);
  const tone = share >= 1 ? ' is-full' : share >= NEAR_LIMIT_SHARE ? ' is-near' : '';
  const text = `${formatNumber(use.used)} of ${formatNumber(limit.limit)} ${currentWindowPhrase(limit.windowSeconds)}, resets ${formatResetAt(use.resetAt, limit.windowSeconds)}`;
  return (
    <li data-testid="rate-limit-use" data-limit-name={limit.name}>
      <div className="limit-use-head">
        <span>
          <code>{limit.name}</code>{' '}
          <span className="muted">
            {formatNumber(limit.limit)} {describeWindow(limit.windowSeconds)}
          </span>
        </span>
        <span className="limit-use-text">{text}</span>
      </div>
      <span className="meter" role="meter" aria-label={`${limit.name}: ${text}`} aria-valuemin={0} aria-valuemax={limit.limit} aria-valuenow={Math.min(use.used, limit.limit)}>
        <span className={`meter-fill${tone}`} style={{ width: `${share * 100}%` }} />
      </span>
    </li>
  );
}

function CreditsSummary({ apiKey }: { apiKey: ApiKey }) {
  const credits = apiKey.credits;
  if (!credits) return <p className="muted">Unlimited: requests spend no credits.</p>;
  return (
    <>
      <p>
        <span className="credits-figure" data-testid="credits-remaining">
          {formatNumber(credits.remaining)}
        </span>{' '}
        left{' '}
        {credits.remaining === 0 ? (
          <Badge tone="danger" title="Requests are refused with USAGE_EXCEEDED until a refill or until credits are added">
            Used up
          </Badge>
        ) : null}
      </p>
      <p className="muted" data-testid="credits-refill">
        {credits.refill
          ? `Refilled to ${formatNumber(credits.refill.amount)} ${credits.refill.interval === 'day' ? 'at 00:00 UTC every day' : 'on the 1st of every month at 00:00 UTC'}.`
          : 'No refill: once spent, requests are refused until credits are added.'}
      </p>
      <p className="field-hint">Each accepted request spends its cost. The count here may trail the latest requests by a few seconds.</p>
    </>
  );
}
