/**
 * A verification that could not be made: Keyward was unreachable or answered an error
 * (`unavailable`), refused the verifier credential (`verifier_unauthorized`: check
 * `verifierToken`), or refused the ask as malformed (`invalid_request`: an unknown permission, a
 * bad resource path). It is never a verdict about the key: fail closed, and log it.
 *
 * @example
 * try {
 *   await verifier.verify({ key });
 * } catch (err) {
 *   if (err instanceof VerificationError && err.code === 'unavailable') reply.code(503);
 * }
 */
export class VerificationError extends Error {
  override readonly name = 'VerificationError';
  constructor(
    readonly code: 'unavailable' | 'verifier_unauthorized' | 'invalid_request',
    message: string,
    /** The HTTP status Keyward answered, or null when it could not be reached. */
    readonly status: number | null = null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
