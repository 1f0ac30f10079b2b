import { describe, expect, it } from 'vitest';
import { CliError } from './cli-error.js';
import { parseDuration, parseExpiry, relativeTime } from './durations.js';

describe('durations', () => {
  const now = new Date('2026-05-01T12:00:00Z');

  it('reads an expiry as a duration from now, a date at midnight UTC, or an RFC 3339 time', () => {
    expect(parseExpiry('30d', now)).toBe('2026-05-31T12:00:00.000Z');
    expect(parseExpiry('12h', now)).toBe('2026-05-02T00:00:00.000Z');
    expect(parseExpiry('2027-01-01', now)).toBe('2027-01-01T00:00:00.000Z');
    expect(parseExpiry('2027-01-01T08:30:00+02:00', now)).toBe('2027-01-01T06:30:00.000Z');
  });

  it('refuses what it cannot read with a usage error (exit 2)', () => {
    for (const bad of ['soon', '30 days', '0d', '2027-13-45', '-5d']) {
      const attempt = () => parseExpiry(bad, now);
      expect(attempt, bad).toThrow(CliError);
      try {
        attempt();
      } catch (err) {
        expect((err as CliError).exitCode).toBe(2);
      }
    }
    expect(() => parseDuration('24', '--overlap')).toThrow(/--overlap takes a duration/);
  });

  it('says when in words', () => {
    expect(relativeTime(null, now)).toBe('never');
    expect(relativeTime('2026-05-01T11:59:30Z', now)).toBe('just now');
    expect(relativeTime('2026-05-01T09:00:00Z', now)).toBe('3 hours ago');
    expect(relativeTime('2026-05-02T12:00:00Z', now)).toBe('in 1 day');
  });
});
