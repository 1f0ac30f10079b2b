import { z } from 'zod';
import { idOf, instant } from './common.js';

/** The algorithms an organization may sign its access tokens with. */
export const signingAlgorithm = z.enum(['ES256', 'RS256', 'EdDSA']);
export type SigningAlgorithm = z.infer<typeof signingAlgorithm>;

/**
 * A signing key as admins see it (`GET /api/signing-keys`): its lifecycle, never any key material.
 * `next` is published ahead of use, `current` signs, `previous` still verifies its tokens until they
 * expire, `retired` does neither.
 *
 * @example
 * const { data } = signingKeyList.parse(await (await fetch(`${url}/api/signing-keys`, { headers })).json());
 * const signing = data.find((key) => key.state === 'current');
 */
export const signingKey = z
  .object({
    id: idOf('sk'),
    algorithm: signingAlgorithm,
    state: z.enum(['next', 'current', 'previous', 'retired']),
    createdAt: instant,
    publishedAt: instant,
    activatedAt: instant.nullable(),
    deactivatedAt: instant.nullable(),
    retiredAt: instant.nullable(),
    compromisedAt: instant.nullable().describe('Set by an emergency rotation: tokens the key signed are refused'),
  })
  .meta({ id: 'SigningKey' });
export type SigningKey = z.infer<typeof signingKey>;

/** `GET /api/signing-keys` and `POST /api/signing-keys/rotate`: every key of the organization, newest first. */
export const signingKeyList = z.object({ data: z.array(signingKey) });
export type SigningKeyList = z.infer<typeof signingKeyList>;

/**
 * `POST /api/signing-keys/rotate`. Planned (the default) promotes the next key once it has been
 * published ten minutes (409 before); `emergency` retires the current key at once as compromised.
 *
 * @example
 * await fetch(`${url}/api/signing-keys/rotate`, { method: 'POST', headers, body: JSON.stringify({ emergency: true }) });
 */
export const rotateSigningKeysBody = z.strictObject({ emergency: z.boolean().optional() });
export type RotateSigningKeysBody = z.infer<typeof rotateSigningKeysBody>;

/**
 * `PATCH /api/organization`: how the organization's access tokens are made. A new algorithm applies
 * from the next generated key; a new lifetime to tokens issued from then on.
 *
 * @example
 * const body: TokenSettingsBody = { signingAlgorithm: 'RS256', accessTokenTtlSeconds: 300 };
 */
export const tokenSettingsBody = z.strictObject({
  signingAlgorithm: signingAlgorithm.optional(),
  accessTokenTtlSeconds: z.number().int().min(60).max(3600).optional().describe('Access-token lifetime in seconds, 60 to 3600'),
});
export type TokenSettingsBody = z.infer<typeof tokenSettingsBody>;
