import type { OrgId, SigningKeyId } from '../ids.js';
import type { SigningAlgorithm } from '../orgs/organization.js';

/** next → current → previous → retired. Only `current` signs; next, current and previous are published. */
export const signingKeyStates = ['next', 'current', 'previous', 'retired'] as const;
export type SigningKeyState = (typeof signingKeyStates)[number];

export interface SigningKeyRecord {
  readonly id: SigningKeyId;
  readonly orgId: OrgId;
  readonly algorithm: SigningAlgorithm;
  readonly state: SigningKeyState;
  /** The public JWK (with `kid`, `alg`, `use`); never any private member. */
  readonly publicJwk: Record<string, unknown>;
  /** AES-256-GCM ciphertext of the private JWK under the configured encryption key. */
  readonly privateKeyCiphertext: string;
  readonly createdAt: Date;
  readonly publishedAt: Date;
  readonly activatedAt: Date | null;
  readonly deactivatedAt: Date | null;
  readonly retiredAt: Date | null;
  /** Set by emergency rotation: tokens signed by this key are refused from this instant. */
  readonly compromisedAt: Date | null;
}
