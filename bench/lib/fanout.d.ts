// Types of fanout.js, for tests/process/fanout.test.ts (the benchmark itself is plain JavaScript).

export interface InstanceClient {
  readonly url: string;
  call(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  close(): void;
}

export interface FanoutKey {
  readonly id: string;
  readonly token: string;
}

export interface FanoutResult {
  /** Revokes that answered 2xx. */
  readonly revokes: number;
  /** (revoke, other instance) pairs measured: delays plus misses. */
  readonly pairs: number;
  /** Every delay from a revoke's 2xx to the first REVOKED on another instance, ascending, in ms. */
  readonly delaysMs: number[];
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
  readonly p99Ms: number | null;
  /** null when some pair never answered REVOKED within `giveUpMs`. */
  readonly maxMs: number | null;
  /** Pairs already REVOKED at the first probe, sent as the 2xx arrived: their delay is one round trip. */
  readonly firstProbeRevoked: number;
  /**
   * Per pair, the time from the 2xx to the sending of the last probe answered VALID (0 when none was):
   * the other instance learned of the revoke after that, and before the first REVOKED arrived.
   */
  readonly stillValidP50Ms: number | null;
  readonly stillValidP99Ms: number | null;
  readonly stillValidMaxMs: number | null;
  /** Pairs whose delay exceeded `boundMs`, misses included. */
  readonly overBound: number;
  readonly missed: { keyId: string; instance: number }[];
  /** VALID answers to requests sent more than `boundMs` after their key's revoke answered 2xx. */
  readonly validAfterBound: number;
  readonly violations: { keyId: string; instance: number; source: 'load' | 'probe' | 'sweep'; sentAfterMs: number }[];
  /** VALID answers in the final sweep (every revoked key on every instance, past every bound). */
  readonly sweepValid: number;
  readonly revokeFailures: { keyId: string; status: number; body: unknown }[];
  readonly revokeP50Ms: number | null;
  readonly revokeP99Ms: number | null;
  /** Round trip of a verification during the run (load, probes and the sweep), for scale. */
  readonly verifyP50Ms: number | null;
  readonly verifyP99Ms: number | null;
  readonly loadAnswers: number;
  readonly loadPerSecond: number;
  readonly probeAnswers: number;
  readonly transportErrors: number;
  readonly statuses: Record<string, number>;
  readonly codes: Record<string, number>;
}

export function instanceClient(url: string): InstanceClient;
export function createKeys(client: InstanceClient, adminToken: string, count: number, options?: { prefix?: string; concurrency?: number }): Promise<FanoutKey[]>;
export function warmCaches(clients: InstanceClient[], verifierToken: string, keys: FanoutKey[], options?: { concurrency?: number }): Promise<void>;
export function percentile(sorted: number[], p: number): number | null;
export function measureFanout(options: {
  clients: InstanceClient[];
  adminToken: string;
  verifierToken: string;
  keys: FanoutKey[];
  parallel?: number;
  loadLoops?: number;
  boundMs?: number;
  giveUpMs?: number;
}): Promise<FanoutResult>;

export interface NotificationCutter {
  readonly totals: { rounds: number; listenTerminated: number; redisKilled: number; errors: number };
  stop(): Promise<{ rounds: number; listenTerminated: number; redisKilled: number; errors: number }>;
}
export function cutNotifications(options: { databaseUrl: string; redisUrl?: string | null; everyMs?: number }): Promise<NotificationCutter>;
