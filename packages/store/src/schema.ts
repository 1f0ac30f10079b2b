import type { Generated } from 'kysely';

/**
 * Table shapes as Kysely sees them. Instants are epoch milliseconds (`bigint` columns, parsed as
 * numbers); JSON values are text. The same shapes serve SQLite and PostgreSQL.
 */
export interface OrganizationsTable {
  id: string;
  name: string;
  created_at: number;
  bootstrapped_at: number | null;
  signing_algorithm: string;
  access_token_ttl_seconds: number;
}

export interface UsersTable {
  id: string;
  email: string;
  name: string | null;
  password_hash: string | null;
  created_at: number;
  disabled_at: number | null;
}

export interface SessionsTable {
  id: string;
  user_id: string;
  token_digest: string;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
}

/** One-time password reset tokens (0008), by the digest of the token. */
export interface PasswordResetsTable {
  token_digest: string;
  user_id: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface MembershipsTable {
  org_id: string;
  user_id: string;
  role: string;
  status: string;
  created_at: number;
}

export interface InvitationsTable {
  id: string;
  org_id: string;
  user_id: string;
  email: string;
  role: string;
  token_digest: string;
  expires_at: number;
  accepted_at: number | null;
  /** Password checks spent on it (0003); at the limit, the invitation is void. */
  password_attempts: Generated<number>;
  created_by_user_id: string | null;
  created_at: number;
}

export interface TeamsTable {
  id: string;
  org_id: string;
  name: string;
  created_at: number;
}

export interface ProjectsTable {
  id: string;
  org_id: string;
  team_id: string | null;
  name: string;
  archived_at: number | null;
  created_at: number;
}

export interface RoleBindingsTable {
  id: string;
  org_id: string;
  user_id: string;
  role: string;
  permissions: string | null;
  scope_type: string;
  scope_id: string;
  created_at: number;
}

export interface ApiKeysTable {
  id: string;
  org_id: string;
  key_type: string;
  name: string;
  name_lower: string;
  description: string | null;
  lookup_id: string | null;
  secret_digest: string;
  pepper_version: number;
  previous_secret_digest: string | null;
  previous_pepper_version: number | null;
  previous_secret_expires_at: number | null;
  preview: string;
  owner_user_id: string | null;
  created_by_user_id: string | null;
  created_by_key_id: string | null;
  project_id: string | null;
  bindings: string;
  permission_mode: string;
  permissions: string;
  scopes: string;
  allowed_cidrs: string;
  expires_at: number | null;
  last_used_at: number | null;
  created_at: number;
  updated_at: number;
  revoked_at: number | null;
  revoked_reason: string | null;
  disabled_at: number | null;
  rate_limits: string;
  credits_remaining: number | string | null;
  credits_refill_amount: number | string | null;
  credits_refill_interval: string | null;
  credits_version: number | string;
  credits_period: number | string;
}

export interface AuditLogTable {
  seq: Generated<number>;
  id: string;
  org_id: string;
  at: number;
  actor_type: string;
  actor_id: string;
  actor_preview: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  ip: string | null;
  outcome: string;
  request_id: string | null;
  details: string;
}

export interface VerifiersTable {
  id: string;
  name: string;
  org_id: string | null;
  digest: string;
  pepper_version: number;
  preview: string;
  created_at: number;
  revoked_at: number | null;
  previous_digest: string | null;
  previous_pepper_version: number | null;
  previous_expires_at: number | null;
  last_used_at: number | null;
}

export interface SigningKeysTable {
  id: string;
  org_id: string;
  algorithm: string;
  state: string;
  public_jwk: string;
  private_key_ciphertext: string;
  created_at: number;
  published_at: number;
  activated_at: number | null;
  deactivated_at: number | null;
  retired_at: number | null;
  compromised_at: number | null;
}

export interface UsageTable {
  org_id: string;
  key_id: string;
  minute_start: number;
  code: string;
  count: number;
}

export interface MetaTable {
  name: string;
  value: string;
}

export interface RevokedTokensTable {
  jti: string;
  org_id: string;
  key_id: string;
  expires_at: number;
}

export interface InvalidationsTable {
  seq: Generated<number>;
  at: number;
  event: string;
  origin: string;
}

export interface OrganizationPoliciesTable {
  org_id: string;
  max_key_lifetime_days: number | null;
  default_key_lifetime_days: number | null;
  require_expiry: number;
  require_allowed_cidrs_for_service_keys: number;
  personal_keys_allowed: number;
  updated_at: number;
}

/** Webhook endpoints (0010); secrets are AES-256-GCM envelopes. */
export interface WebhookEndpointsTable {
  id: string;
  org_id: string;
  url: string;
  events: string;
  description: string | null;
  enabled: number;
  disabled_reason: string | null;
  secret_encrypted: string;
  previous_secret_encrypted: string | null;
  previous_secret_expires_at: number | null;
  failing_since: number | null;
  created_at: number;
  updated_at: number;
}

/** The outbox (0010): the body of every event, as signed and sent. */
export interface WebhookEventsTable {
  id: string;
  org_id: string;
  type: string;
  payload: string;
  created_at: number;
}

/** Events waiting for the delivery worker to write their deliveries, in the order written (migration 0014). */
export interface WebhookOutboxTable extends WebhookEventsTable {
  seq: Generated<number>;
}

export interface WebhookDeliveriesTable {
  id: string;
  org_id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  status: string;
  next_attempt_at: number | null;
  retries_left: number | null;
  attempt_count: number;
  lease_token: string | null;
  created_at: number;
}

export interface WebhookAttemptsTable {
  delivery_id: string;
  number: number;
  at: number;
  status_code: number | null;
  duration_ms: number;
  error: string | null;
  response_excerpt: string | null;
}

export interface KeyExpiryNoticesTable {
  key_id: string;
  stage: string;
  expires_at: number;
  org_id: string;
  sent_at: number;
}

export interface SchedulerLeasesTable {
  name: string;
  holder: string;
  expires_at: number;
}

export interface Database {
  organizations: OrganizationsTable;
  users: UsersTable;
  sessions: SessionsTable;
  password_resets: PasswordResetsTable;
  key_expiry_notices: KeyExpiryNoticesTable;
  scheduler_leases: SchedulerLeasesTable;
  memberships: MembershipsTable;
  invitations: InvitationsTable;
  teams: TeamsTable;
  projects: ProjectsTable;
  role_bindings: RoleBindingsTable;
  api_keys: ApiKeysTable;
  audit_log: AuditLogTable;
  verifiers: VerifiersTable;
  signing_keys: SigningKeysTable;
  usage: UsageTable;
  meta: MetaTable;
  revoked_tokens: RevokedTokensTable;
  invalidations: InvalidationsTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_events: WebhookEventsTable;
  webhook_outbox: WebhookOutboxTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  organization_policies: OrganizationPoliciesTable;
}
