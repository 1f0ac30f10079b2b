import { z } from 'zod';
import { safeText } from './common.js';

/**
 * `POST /api/auth/change-password`: a signed-in person's current password and the new one (at least
 * 8 characters, at most 256). Answers 204; a wrong current password is 401 `invalid_credentials`.
 *
 * @example
 * const body: ChangePasswordBody = changePasswordBody.parse({ currentPassword: 'the-old-one', newPassword: 'a-longer-new-one' });
 */
export const changePasswordBody = z.strictObject({
  currentPassword: safeText().min(1).max(256),
  newPassword: safeText().min(1).max(256).describe('At least 8 characters'),
});
export type ChangePasswordBody = z.infer<typeof changePasswordBody>;

/**
 * `POST /api/auth/reset-password`: the one-time token of a reset link (`keyward admin
 * reset-password`) and the new password. Answers 204; a used, expired or unknown token is 404
 * `reset_token_invalid`.
 *
 * @example
 * const body: ResetPasswordBody = resetPasswordBody.parse({ token: new URL(resetUrl).searchParams.get('token'), password: 'a-long-new-password' });
 */
export const resetPasswordBody = z.strictObject({
  token: safeText().min(1).max(200).describe('The token of the reset link (kwr_…)'),
  password: safeText().min(1).max(256).describe('At least 8 characters'),
});
export type ResetPasswordBody = z.infer<typeof resetPasswordBody>;

/** An answer without a body (204). */
export const noContent = z.null().describe('No content');
