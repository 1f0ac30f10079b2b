import { parseDuration } from '../durations.js';

/**
 * Durations as the CLI takes them ("30d", "24h", "90m", "2w"), so a tool can take "expires in 30
 * days" without the caller knowing today's date. The input schemas check this pattern first.
 */
export const durationPattern = /^[1-9][0-9]*\s*[smhdwy]$/;

/** The instant `duration` after `now`, as the API writes instants. */
export function instantAfter(now: Date, duration: string, field: string): string {
  return new Date(now.getTime() + parseDuration(duration, field)).toISOString();
}

/** The instant `duration` before `now`. */
export function instantBefore(now: Date, duration: string, field: string): string {
  return new Date(now.getTime() - parseDuration(duration, field)).toISOString();
}
