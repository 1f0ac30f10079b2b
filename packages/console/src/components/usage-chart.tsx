import type { UsageBucket } from '@keyward/wire';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatNumber } from '../lib/format';

const timeOfDay = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayAndHour = new Intl.DateTimeFormat(undefined, { weekday: 'short', hour: '2-digit' });
const full = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export const VALID_COLOR = '#4f46e5';
export const REJECTED_COLOR = '#dc2626';

/** Stacked bars of valid and rejected requests per bucket. */
export default function UsageChart({ report, interval, rangeLabel }: { report: { buckets: UsageBucket[]; totals: { valid: number; rejected: number } }; interval: string; rangeLabel: string }) {
  const data = report.buckets.map((bucket) => ({ t: new Date(bucket.start).getTime(), valid: bucket.valid, rejected: bucket.rejected }));
  const week = data.length > 48 && interval === 'hour';
  const tick = (t: number) => (week ? dayAndHour.format(t) : timeOfDay.format(t));
  const summary = `${rangeLabel}: ${formatNumber(report.totals.valid)} valid and ${formatNumber(report.totals.rejected)} rejected requests, per ${interval}.`;
  return (
    <div className="chart" role="img" aria-label={summary} data-testid="usage-chart">
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: 0 }} barCategoryGap={data.length > 100 ? 0 : 2}>
          <CartesianGrid stroke="#e5e7eb" vertical={false} />
          <XAxis dataKey="t" tickFormatter={tick} tick={{ fontSize: 12, fill: '#4b5563' }} tickLine={false} axisLine={{ stroke: '#d1d5db' }} minTickGap={32} />
          <YAxis allowDecimals={false} tick={{ fontSize: 12, fill: '#4b5563' }} tickLine={false} axisLine={false} width={40} />
          <Tooltip
            labelFormatter={(t) => full.format(Number(t))}
            formatter={(value, name) => [formatNumber(Number(value)), name === 'valid' ? 'Valid' : 'Rejected']}
            cursor={{ fill: 'rgba(79, 70, 229, 0.08)' }}
            isAnimationActive={false}
          />
          <Legend formatter={(name) => (name === 'valid' ? 'Valid' : 'Rejected')} itemSorter={(item) => (item.dataKey === 'valid' ? 0 : 1)} iconType="square" wrapperStyle={{ fontSize: 12 }} />
          <Bar dataKey="valid" stackId="requests" fill={VALID_COLOR} isAnimationActive={false} />
          <Bar dataKey="rejected" stackId="requests" fill={REJECTED_COLOR} isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
