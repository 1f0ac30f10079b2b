import type { UsageBucket } from '@keyward/wire';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatNumber } from '../lib/format';
import { RATE_LIMITED_COLOR, REJECTED_COLOR, USAGE_EXCEEDED_COLOR, VALID_COLOR } from './usage-colors';

const timeOfDay = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayAndHour = new Intl.DateTimeFormat(undefined, { weekday: 'short', hour: '2-digit' });
const full = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** The stacked series, in the order they stack and are listed in the legend. */
const series = [
  { key: 'valid', label: 'Valid', color: VALID_COLOR },
  { key: 'rateLimited', label: 'Rate limited', color: RATE_LIMITED_COLOR },
  { key: 'usageExceeded', label: 'Out of credits', color: USAGE_EXCEEDED_COLOR },
  { key: 'otherRejected', label: 'Other rejections', color: REJECTED_COLOR },
] as const;
const labelOf = (name: unknown) => series.find((s) => s.key === name)?.label ?? String(name);
const orderOf = (name: unknown) => series.findIndex((s) => s.key === name);

/**
 * Stacked bars per bucket: valid requests, and the rejected ones split into those refused by a rate limit
 * (RATE_LIMITED), for want of credits (USAGE_EXCEEDED) and for any other reason, so that limits running
 * out stand apart from keys that are wrong.
 */
export default function UsageChart({ report, interval, rangeLabel }: { report: { buckets: UsageBucket[]; totals: { valid: number; rejected: number; rejectedByCode: Record<string, number> } }; interval: string; rangeLabel: string }) {
  const data = report.buckets.map((bucket) => {
    const rateLimited = bucket.rejectedByCode.RATE_LIMITED ?? 0;
    const usageExceeded = bucket.rejectedByCode.USAGE_EXCEEDED ?? 0;
    return { t: new Date(bucket.start).getTime(), valid: bucket.valid, rateLimited, usageExceeded, otherRejected: Math.max(0, bucket.rejected - rateLimited - usageExceeded) };
  });
  const week = data.length > 48 && interval === 'hour';
  const tick = (t: number) => (week ? dayAndHour.format(t) : timeOfDay.format(t));
  const limited = (report.totals.rejectedByCode.RATE_LIMITED ?? 0) + (report.totals.rejectedByCode.USAGE_EXCEEDED ?? 0);
  const split = limited ? ` (${formatNumber(report.totals.rejectedByCode.RATE_LIMITED ?? 0)} rate limited, ${formatNumber(report.totals.rejectedByCode.USAGE_EXCEEDED ?? 0)} out of credits)` : '';
  const summary = `${rangeLabel}: ${formatNumber(report.totals.valid)} valid and ${formatNumber(report.totals.rejected)} rejected requests${split}, per ${interval}.`;
  return (
    <div className="chart" role="img" aria-label={summary} data-testid="usage-chart">
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: 0 }} barCategoryGap={data.length > 100 ? 0 : 2}>
          <CartesianGrid stroke="#e5e7eb" vertical={false} />
          <XAxis dataKey="t" tickFormatter={tick} tick={{ fontSize: 12, fill: '#4b5563' }} tickLine={false} axisLine={{ stroke: '#d1d5db' }} minTickGap={32} />
          <YAxis allowDecimals={false} tick={{ fontSize: 12, fill: '#4b5563' }} tickLine={false} axisLine={false} width={40} />
          <Tooltip
            labelFormatter={(t) => full.format(Number(t))}
            formatter={(value, name) => [formatNumber(Number(value)), labelOf(name)]}
            itemSorter={(item) => -orderOf(item.dataKey)}
            cursor={{ fill: 'rgba(79, 70, 229, 0.08)' }}
            isAnimationActive={false}
          />
          <Legend formatter={labelOf} itemSorter={(item) => orderOf(item.dataKey)} iconType="square" wrapperStyle={{ fontSize: 12 }} />
          {series.map((s) => (
            <Bar key={s.key} dataKey={s.key} stackId="requests" fill={s.color} isAnimationActive={false} />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
