import type { OrgId, VerifierId } from '../ids.js';

/** A deployment-level credential for `POST /api/keys/verify`, for every organization or one. */
export interface VerifierRecord {
  readonly id: VerifierId;
  readonly name: string;
  readonly orgId: OrgId | null;
  readonly digest: string;
  readonly pepperVersion: number;
  readonly preview: string;
  readonly createdAt: Date;
  readonly revokedAt: Date | null;
  /** After a roll: the previous secret's digest, valid until `previousExpiresAt`. */
  readonly previousDigest: string | null;
  readonly previousPepperVersion: number | null;
  readonly previousExpiresAt: Date | null;
  /** When a server last accepted it (written at most once a minute per instance). */
  readonly lastUsedAt: Date | null;
}
