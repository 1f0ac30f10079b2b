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
}
