import type { ApiKey, KeyUsageResponse, RateLimit } from '@keyward/wire';
import { day, minute, relativeTime } from '../durations.js';
import type { Output } from '../output/output.js';
import type { Colours } from '../output/style.js';
import { renderTable, type Column } from '../output/table.js';

/** Who made a key, in words: "you", a member's email, the key that made it, or an id. */
export type CreatorNames = (key: ApiKey) => string;

export function accessSummary(key: ApiKey): string {
  if (key.keyType === 'project') return `project ${key.projectId ?? '?'}`;
  const bindings = key.bindings.map((b) => `${b.role} ${b.scopeType === 'ORGANIZATION' ? 'org' : b.scopeId}`).join(', ');
  const restricted = key.permissionMode === 'restricted' ? ` · ${key.permissions.join(' ')}` : '';
  return `${bindings || '-'}${restricted}`;
}

/** 1000000 as "1,000,000". */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}

const windowUnits: [number, string][] = [
  [86_400, 'day'],
  [3600, 'hour'],
  [60, 'minute'],
  [1, 'second'],
];

/** A window in words, in the largest unit that divides it: "minute", "5 minutes", "90 seconds". */
export function windowWords(windowSeconds: number): string {
  const [size, unit] = windowUnits.find(([size]) => windowSeconds % size === 0)!;
  const n = windowSeconds / size;
  return n === 1 ? unit : `${count(n)} ${unit}s`;
}

/** `HH:MM:SSZ` of an instant: a window ends within a day, so the time of day names it. */
function timeOfDay(iso: string): string {
  return `${new Date(iso).toISOString().slice(11, 19)}Z`;
}

/** "requests: 100 per minute". */
export function rateLimitWords(limit: RateLimit): string {
  return `${limit.name}: ${count(limit.limit)} per ${windowWords(limit.windowSeconds)}`;
}

/**
 * Each rate limit in words, with its current window as the server counts it now:
 * "requests: 100 per minute (37 used, resets 12:01:00Z)".
 */
export function rateLimitLines(key: ApiKey): string[] {
  return key.rateLimits.map((limit) => {
    const use = key.rateLimitUse?.find((u) => u.name === limit.name);
    return `${rateLimitWords(limit)}${use ? ` (${count(use.used)} used, resets ${timeOfDay(use.resetAt)})` : ''}`;
  });
}

/** "unlimited", "950 left (no refill)", "950 left, refills to 1,000 on the 1st of each month (UTC)". */
export function creditsText(credits: ApiKey['credits']): string {
  if (!credits) return 'unlimited';
  const left = `${count(credits.remaining)} left`;
  if (!credits.refill) return `${left} (no refill)`;
  const when = credits.refill.interval === 'month' ? 'on the 1st of each month (UTC)' : 'at 00:00 UTC each day';
  return `${left}, refills to ${count(credits.refill.amount)} ${when}`;
}

export function statusText(status: ApiKey['status'], style: Colours): string {
  if (status === 'active') return style.green(status);
  if (status === 'revoked') return style.red(status);
  return style.yellow(status);
}

export function keyTable(keys: readonly ApiKey[], creator: CreatorNames, width: number, style: Colours): string {
  const now = new Date();
  // Colour codes would count as width: colour only the header, where widths are known.
  const columns: Column<ApiKey>[] = [
    { header: 'NAME', value: (k) => k.name, priority: 10, flexible: true, minWidth: 20 },
    { header: 'ID', value: (k) => k.id, priority: 9 },
    { header: 'TYPE', value: (k) => k.keyType, priority: 6 },
    { header: 'PREVIEW', value: (k) => k.preview, priority: 7 },
    { header: 'STATUS', value: (k) => k.status, priority: 8 },
    { header: 'SCOPE', value: accessSummary, priority: 4, flexible: true, minWidth: 14 },
    { header: 'CREATED', value: (k) => day(k.createdAt), priority: 3 },
    { header: 'LAST USED', value: (k) => relativeTime(k.lastUsedAt, now), priority: 5 },
    { header: 'CREATED BY', value: creator, priority: 2, flexible: true, minWidth: 10 },
  ];
  // Only lists with a key that counts credits get the column: a column of "unlimited" says nothing.
  if (keys.some((k) => k.credits)) columns.push({ header: 'CREDITS', value: (k) => (k.credits ? count(k.credits.remaining) : 'unlimited'), priority: 1 });
  return renderTable(keys, columns, width, style.bold);
}

/** One key, field by field, as `api-key get` and `edit` show it. */
export function printKey(output: Output, key: ApiKey, creator: CreatorNames): void {
  const { style } = output;
  const now = new Date();
  const rows: [string, string][] = [
    ['Name', style.bold(key.name)],
    ['ID', key.id],
    ['Type', key.keyType],
    ['Status', statusText(key.status, style) + (key.revokedAt ? ` ${minute(key.revokedAt)}` : '')],
    ['Preview', key.preview],
  ];
  if (key.revokedAt) rows.push(['Reason', key.revokedReason ?? 'revoked']);
  if (key.description) rows.push(['Description', key.description]);
  if (key.ownerUserId) rows.push(['Owner', key.ownerUserId]);
  rows.push(['Created by', creator(key)]);
  rows.push(['Access', accessSummary(key)]);
  rows.push(['Permissions', key.permissionMode === 'all' ? 'all of its access' : key.permissions.join(', ')]);
  if (key.scopes.length) rows.push(['Resources', key.scopes.map((s) => `${s.action}:${s.resource}`).join(', ')]);
  rows.push(['Allowed IPs', key.allowedCidrs.length ? key.allowedCidrs.join(', ') : 'any']);
  const [firstLimit = 'none', ...moreLimits] = rateLimitLines(key);
  rows.push(['Rate limits', firstLimit], ...moreLimits.map((line): [string, string] => ['', line]));
  rows.push(['Credits', creditsText(key.credits)]);
  rows.push(['Expires', key.expiresAt ? `${minute(key.expiresAt)} (${relativeTime(key.expiresAt, now)})` : 'never']);
  rows.push(['Last used', key.lastUsedAt ? `${relativeTime(key.lastUsedAt, now)} (${minute(key.lastUsedAt)})` : 'never']);
  rows.push(['Created', minute(key.createdAt)]);
  if (key.rollOverlapEndsAt && new Date(key.rollOverlapEndsAt) > now) rows.push(['Old secret', `works until ${minute(key.rollOverlapEndsAt)}`]);
  if (key.policyViolations?.length) rows.push(['Policy', style.yellow(`breaks ${key.policyViolations.join(', ')} (keyward org policy get)`)]);
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  for (const [label, value] of rows) output.line(`${style.dim(label.padEnd(width))}${value}`);
}

/** The one-time secret, set apart so it is easy to copy, with the line that it will not be shown again. */
export function printSecret(output: Output, token: string): void {
  const { style } = output;
  output.line('');
  output.line(`    ${style.bold(token)}`);
  output.line('');
  output.line(style.yellow('  This secret is shown only now and will not be shown again: store it in a secret manager.'));
}

/**
 * Usage as a small bar chart: one row per bucket, grouped so at most `maxRows` rows are drawn;
 * the bar is valid requests, the count beside it rejected ones.
 */
export function usageChart(report: KeyUsageResponse, style: Colours, width: number, maxRows = 30): string {
  const per = Math.max(1, Math.ceil(report.buckets.length / maxRows));
  const rows: { start: string; valid: number; rejected: number }[] = [];
  for (let i = 0; i < report.buckets.length; i += per) {
    const group = report.buckets.slice(i, i + per);
    rows.push({ start: group[0]!.start, valid: group.reduce((s, b) => s + b.valid, 0), rejected: group.reduce((s, b) => s + b.rejected, 0) });
  }
  const label = (start: string) => (report.interval === 'day' && per === 1 ? day(start) : `${start.slice(0, 10)} ${start.slice(11, 16)}`);
  const labelWidth = Math.max(...rows.map((r) => label(r.start).length), 4);
  const numbers = Math.max(...rows.map((r) => String(r.valid).length), 5) + Math.max(...rows.map((r) => String(r.rejected).length), 8) + 2;
  const barWidth = Math.max(10, Math.min(50, width - labelWidth - numbers - 4));
  const peak = Math.max(1, ...rows.map((r) => r.valid + r.rejected));
  const lines = [style.dim(`${'UTC'.padEnd(labelWidth)}  ${''.padEnd(barWidth)}  ${'valid'.padStart(5)}  rejected`)];
  for (const r of rows) {
    const validCells = Math.round((r.valid / peak) * barWidth);
    const rejectedCells = r.rejected > 0 ? Math.max(1, Math.round((r.rejected / peak) * barWidth)) : 0;
    const bar = style.green('█'.repeat(validCells)) + style.red('░'.repeat(Math.min(rejectedCells, barWidth - validCells)));
    const pad = ' '.repeat(Math.max(0, barWidth - validCells - Math.min(rejectedCells, barWidth - validCells)));
    lines.push(`${label(r.start).padEnd(labelWidth)}  ${bar}${pad}  ${String(r.valid).padStart(5)}  ${String(r.rejected).padStart(8)}`);
  }
  return lines.join('\n');
}
