import type { KeyUsageResponse, OrganizationUsageResponse } from '@keyward/wire';
import { lazy, Suspense, useMemo, useState } from 'react';
import { query } from '../lib/api';
import { formatNumber } from '../lib/format';
import { rejectionLabels } from '../lib/keys';
import { useApi } from '../lib/use-api';
import { ErrorAlert, LoadingBlock } from './ui';
import { rejectionColor } from './usage-colors';

// recharts is the heaviest dependency: it loads with the first chart, not with the console.
const UsageChart = lazy(() => import('./usage-chart'));

export const usageRanges = [
  { id: 'hour', label: 'Last hour', interval: 'minute', ms: 3_600_000 },
  { id: 'day', label: 'Last 24 hours', interval: 'hour', ms: 86_400_000 },
  { id: 'week', label: 'Last 7 days', interval: 'hour', ms: 7 * 86_400_000 },
] as const;
export type UsageRangeId = (typeof usageRanges)[number]['id'];

export const CHART_HEIGHT = 240;

/** Valid and rejected requests over a range, the rejection reasons, and (org-wide) the busiest keys. */
export function UsagePanel<T extends KeyUsageResponse | OrganizationUsageResponse>({
  path,
  title,
  children,
}: {
  path: string;
  title: string;
  children?: (report: T) => React.ReactNode;
}) {
  const [rangeId, setRangeId] = useState<UsageRangeId>('day');
  const [version, setVersion] = useState(0);
  const range = usageRanges.find((r) => r.id === rangeId)!;
  // The range ends now; recomputed when the range changes or on refresh.
  const url = useMemo(() => {
    const to = new Date();
    const from = new Date(to.getTime() - range.ms);
    void version; // a refresh asks for a new window ending now
    return `${path}${query({ from: from.toISOString(), to: to.toISOString(), interval: range.interval })}`;
  }, [path, range, version]);
  const usage = useApi<T>(url);
  const report = usage.data;
  const codes = report ? Object.entries(report.totals.rejectedByCode).sort((a, b) => b[1] - a[1]) : [];
  const total = report ? report.totals.valid + report.totals.rejected : 0;

  return (
    <section className="card usage" aria-labelledby="usage-title">
      <div className="card-header">
        <h2 id="usage-title" className="card-title">
          {title}
        </h2>
        <div className="card-actions">
          <div className="segmented" role="group" aria-label="Time range">
            {usageRanges.map((r) => (
              <button key={r.id} type="button" className="segment" aria-pressed={r.id === rangeId} onClick={() => setRangeId(r.id)}>
                {r.label}
              </button>
            ))}
          </div>
          <button type="button" className="button button-secondary button-small" onClick={() => setVersion((v) => v + 1)}>
            Refresh
          </button>
        </div>
      </div>
      {usage.error ? (
        <ErrorAlert error={usage.error} title="Usage could not be loaded" onRetry={usage.reload} />
      ) : (
        <>
          <div className="stats" aria-live="polite" aria-busy={usage.loading || undefined}>
            <Stat label="Requests" value={report ? formatNumber(total) : '…'} />
            <Stat label="Valid" value={report ? formatNumber(report.totals.valid) : '…'} tone="valid" testId="usage-valid" />
            <Stat label="Rejected" value={report ? formatNumber(report.totals.rejected) : '…'} tone="rejected" testId="usage-rejected" />
            <Stat label="Rejection rate" value={report ? (total ? `${((report.totals.rejected / total) * 100).toFixed(1)}%` : '—') : '…'} />
          </div>
          <div className="chart-box" style={{ height: CHART_HEIGHT }}>
            {report ? (
              <Suspense fallback={<LoadingBlock height={CHART_HEIGHT} label="Loading chart" />}>
                <UsageChart report={report} interval={range.interval} rangeLabel={range.label} />
              </Suspense>
            ) : (
              <LoadingBlock height={CHART_HEIGHT} label="Loading usage" />
            )}
          </div>
          <div className="usage-breakdown">
            <div>
              <h3 className="subheading">Rejected by reason</h3>
              {!report ? null : codes.length === 0 ? (
                <p className="muted">No rejected requests in this range.</p>
              ) : (
                <table className="table table-compact breakdown">
                  <caption className="visually-hidden">Rejected requests by reason</caption>
                  <thead>
                    <tr>
                      <th scope="col">Reason</th>
                      <th scope="col" className="num">
                        Requests
                      </th>
                      <th scope="col">
                        <span className="visually-hidden">Share</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {codes.map(([code, count]) => (
                      <tr key={code}>
                        <td>
                          {rejectionLabels[code] ?? code} <code className="muted">{code}</code>
                        </td>
                        <td className="num">{formatNumber(count)}</td>
                        <td className="share">
                          <span className="share-bar" style={{ width: `${Math.max(4, (count / report.totals.rejected) * 100)}%`, background: rejectionColor(code) }} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </div>
            {report && children ? children(report) : null}
          </div>
        </>
      )}
    </section>
  );
}

function Stat({ label, value, tone, testId }: { label: string; value: string; tone?: 'valid' | 'rejected'; testId?: string }) {
  return (
    <div className={`stat${tone ? ` stat-${tone}` : ''}`}>
      <span className="stat-label">{label}</span>
      <span className="stat-value" data-testid={testId}>
        {value}
      </span>
    </div>
  );
}
