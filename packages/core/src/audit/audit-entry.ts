import type { AuditEntryId, OrgId } from '../ids.js';

export type ActorType = 'user' | 'api_key' | 'access_token' | 'verifier' | 'system' | 'leak_report';
export type AuditOutcome = 'success' | 'denied' | 'failure';

export interface AuditActor {
  readonly type: ActorType;
  readonly id: string;
  /** For keys: the preview, never more. */
  readonly preview?: string;
}

export interface AuditEntry {
  readonly id: AuditEntryId;
  readonly orgId: OrgId;
  readonly at: Date;
  readonly actor: AuditActor;
  readonly action: string;
  readonly targetType: string;
  readonly targetId: string | null;
  readonly ip: string | null;
  readonly outcome: AuditOutcome;
  readonly requestId: string | null;
  readonly details: Record<string, unknown>;
}
