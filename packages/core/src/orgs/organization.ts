import type { OrgId } from '../ids.js';

export const signingAlgorithms = ['ES256', 'RS256', 'EdDSA'] as const;
export type SigningAlgorithm = (typeof signingAlgorithms)[number];

export interface Organization {
  readonly id: OrgId;
  readonly name: string;
  readonly createdAt: Date;
  /** Set once, when the organization's signing keys were provisioned. Keys cannot be created before. */
  readonly bootstrappedAt: Date | null;
  readonly signingAlgorithm: SigningAlgorithm;
  readonly accessTokenTtlSeconds: number;
}
