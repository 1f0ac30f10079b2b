import type { ServerMetrics } from './metrics.js';

/** What an operator watches and steers a running instance by: readiness, metrics, the drain. */
export interface Operations {
  readonly metrics: ServerMetrics;
  /** Pings Redis (a bounded round trip); null without `KEYWARD_REDIS_URL`. */
  readonly pingRedis: (() => Promise<void>) | null;
  /**
   * Set from SIGTERM on (operator/drain.ts): `/readyz` answers 503 so that load balancers stop
   * sending, and every answer carries `Connection: close`.
   */
  draining: boolean;
  /**
   * Requests received so far, counted as they arrive (app.ts): background work (the webhook delivery
   * worker) paces itself while this moves, leaving the event loop to requests.
   */
  requestsSeen: number;
}
