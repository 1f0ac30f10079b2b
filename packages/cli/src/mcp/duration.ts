/**
 * Durations as people and assistants write them ("30d", "24h", "90m", "45s", "2w"), so a tool can
 * take "expires in 30 days" without the caller knowing today's date.
 */
const unitMs = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

export const durationPattern = /^([1-9][0-9]{0,5})(s|m|h|d|w)$/;

/** Milliseconds of a duration like "24h"; null when it is not one. */
export function parseDurationMs(text: string): number | null {
  const match = durationPattern.exec(text.trim());
  if (!match) return null;
  return Number(match[1]) * unitMs[match[2] as keyof typeof unitMs];
}

/** The instant `duration` after `now`, as the API writes instants. */
export function instantAfter(now: Date, duration: string): string {
  return new Date(now.getTime() + durationMs(duration)).toISOString();
}

/** The instant `duration` before `now`. */
export function instantBefore(now: Date, duration: string): string {
  return new Date(now.getTime() - durationMs(duration)).toISOString();
}

function durationMs(duration: string): number {
  const ms = parseDurationMs(duration);
  if (ms === null) throw new RangeError(`"${duration}" is not a duration like 30d, 24h or 90m.`);
  return ms;
}
