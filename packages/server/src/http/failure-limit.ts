import type { Services } from '../services.js';
import { ApiError } from './api-error.js';

/** The 429 of a client address past its failed authentications (`KEYWARD_AUTH_FAILURES_PER_MINUTE`). */
export function tooManyFailures(retryAfterSeconds: number): ApiError {
  return new ApiError(429, 'rate_limited', 'Too many failed attempts from this address; try again later.', {}, { 'retry-after': String(retryAfterSeconds) });
}

/**
 * Runs an attempt that presents a secret (a password, a setup, reset or invitation token) under the
 * failed-authentication limit of the client address: refused with 429 when the address is past it,
 * and counted against it when it fails in a way `isFailure` says is a wrong secret. With the limit
 * off (0) it only runs the attempt.
 */
export async function limitedAttempt<T>(
  services: Pick<Services, 'authFailures' | 'config'>,
  ip: string,
  isFailure: (err: unknown) => boolean,
  attempt: () => Promise<T>,
): Promise<T> {
  if (services.config.authFailuresPerMinute <= 0) return attempt();
  const state = await services.authFailures.check(ip);
  if (state.limited) throw tooManyFailures(state.retryAfterSeconds);
  try {
    return await attempt();
  } catch (err) {
    if (isFailure(err)) await services.authFailures.hit(ip);
    throw err;
  }
}
