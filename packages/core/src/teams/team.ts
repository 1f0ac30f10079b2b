import type { OrgId, TeamId } from '../ids.js';

export interface Team {
  readonly id: TeamId;
  readonly orgId: OrgId;
  readonly name: string;
  readonly createdAt: Date;
}
