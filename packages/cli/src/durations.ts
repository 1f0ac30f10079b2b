import { usageError } from './cli-error.js';

/** Milliseconds per duration unit: s, m, h, d, w, y. */
export const unitMs: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000, y: 365 * 86_400_000 };

/** `90s`, `15m`, `24h`, `30d`, `2w`, `1y` in milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+)\s*([smhdwy])$/.exec(text.trim());
  if (!match || Number(match[1]) <= 0) throw usageError(`${flag} takes a duration such as 30m, 24h, 7d or 2w, not "${text}".`);
  return Number(match[1]) * unitMs[match[2]!]!;
}

/**
 * An expiry: a duration from now (`30d`), a date (`2027-01-01`, midnight UTC) or an RFC 3339
 * instant; answers the RFC 3339 instant the API takes.
 */
export function parseExpiry(text: string, now: Date = new Date()): string {
  if (/^\d+\s*[smhdwy]$/.test(text.trim())) return new Date(now.getTime() + parseDuration(text, '--expires')).toISOString();
  const day = /^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text;
  const at = new Date(day);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(at.getTime())) {
    throw usageError(`--expires takes a duration (30d), a date (2027-01-01) or a time (2027-01-01T12:00:00Z), not "${text}".`);
  }
  return at.toISOString();
}

/** "3 minutes ago", "in 2 days", "never". */
export function relativeTime(iso: string | null, now: Date = new Date()): string {
  if (!iso) return 'never';
  const ms = new Date(iso).getTime() - now.getTime();
  const abs = Math.abs(ms);
  const steps: [number, string][] = [
    [365 * 86_400_000, 'year'],
    [30 * 86_400_000, 'month'],
    [86_400_000, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
  ];
  for (const [size, unit] of steps) {
    if (abs >= size) {
      const n = Math.floor(abs / size);
      const words = `${n} ${unit}${n === 1 ? '' : 's'}`;
      return ms < 0 ? `${words} ago` : `in ${words}`;
    }
  }
  return ms < 0 ? 'just now' : 'in under a minute';
}

/** `2026-05-01` from an RFC 3339 instant. */
export function day(iso: string | null): string {
  return iso ? iso.slice(0, 10) : '-';
}

/** `2026-05-01 14:03 UTC`. */
export function minute(iso: string | null): string {
  return iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC` : '-';
}
