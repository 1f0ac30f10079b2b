import type { OrgId, ProjectId, TeamId } from '../ids.js';

export interface Project {
  readonly id: ProjectId;
  readonly orgId: OrgId;
  readonly teamId: TeamId | null;
  readonly name: string;
  readonly archivedAt: Date | null;
  readonly createdAt: Date;
}
