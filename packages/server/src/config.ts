import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import {
  DEFAULT_KEY_PREFIX,
  assertValidPrefix,
  defaultCatalogue,
  parseCatalogue,
  parsePepperSetting,
  type Pepper,
  type PermissionCatalogue,
} from '@keyward/core';
import type { GitHubKeySource } from './adapters/github-scanning-keys.js';

/** Everything the server reads from its environment, resolved and checked once at start. */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly databaseUrl: string;
  /** SQLite: how long a write waits for a write lock another process holds before 503 `store_busy`. */
  readonly sqliteLockWaitMs: number;
  readonly redisUrl: string | null;
  /** Prefix of Redis channels and keys, shared by the instances of one deployment. */
  readonly redisPrefix: string;
  readonly publicUrl: string;
  /** False when publicUrl was derived from host and port rather than set. */
  readonly publicUrlConfigured: boolean;
  readonly peppers: Pepper[];
  readonly encryptionKey: Buffer;
  readonly authFailuresPerMinute: number;
  /** API keys one person (or one service key) may create per minute; 0 means no limit (R46). */
  readonly keyCreationsPerMinute: number;
  readonly trustedProxies: string[];
  readonly keyPrefix: string;
  readonly catalogue: PermissionCatalogue;
  /** Where the catalogue came from: the file's absolute path, or `default`. */
  readonly catalogueSource: string;
  /** `KEYWARD_CATALOGUE_ALLOW_REMOVED=1`: start even when active keys name permissions the catalogue lacks. */
  readonly allowRemovedPermissions: boolean;
  readonly logLevel: string;
  readonly usageFlushIntervalMs: number;
  /** How often expiry reminders are looked for (by one instance at a time). */
  readonly expiryCheckIntervalMs: number;
  /** Entries of the verifier's cache (keys, owners, projects). */
  readonly verifierCacheEntries: number;
  /** Open invalidation streams one verifier credential may hold on this instance; the next is 429. */
  readonly maxStreamsPerVerifier: number;
  /** The Bearer token `GET /metrics` requires; null turns the endpoint off (404). */
  readonly metricsToken: string | null;
  /** Where the built console is, if it is served. */
  readonly consoleDir: string | null;
  readonly secureCookies: boolean;
  /** Webhook delivery (issue 15): see `webhookSettings`. */
  readonly webhooks: WebhookSettings;
  /**
   * `KEYWARD_GITHUB_SECRET_SCANNING_KEYS`: where GitHub's secret-scanning public keys are read (a
   * file, or an https URL; http only on a loopback address). Null turns `POST /api/keys/leaked/github` off (404).
   */
  readonly githubSecretScanningKeys: GitHubKeySource | null;
}

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function intSetting(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new ConfigError(`${name} must be an integer between ${min} and ${max}`);
  return value;
}

export interface WebhookSettings {
  /** `KEYWARD_WEBHOOK_ALLOW_PRIVATE=1`: loopback, private, link-local and metadata targets are allowed (tests, closed networks). */
  readonly allowPrivateTargets: boolean;
  /** `KEYWARD_WEBHOOK_RETRY_SCHEDULE`: seconds to wait before each retry after a failed attempt. */
  readonly retryScheduleSeconds: readonly number[];
  /** `KEYWARD_WEBHOOK_TIMEOUT_MS` (10000): how long one attempt may take, connection to last byte. */
  readonly timeoutMs: number;
  /** `KEYWARD_WEBHOOK_CONCURRENCY` (16): sends in flight at once on this instance. */
  readonly concurrency: number;
  /**
   * `KEYWARD_WEBHOOK_DELIVERY` (`on`): whether this instance delivers the outbox. `off` makes an
   * API-only instance, for deployments where other instances deliver (events are still written).
   */
  readonly delivery: boolean;
}

/** About 24 hours of retries after the first attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 8 h, 8 h. */
export const DEFAULT_WEBHOOK_RETRY_SCHEDULE = [5, 300, 1800, 7200, 18000, 28800, 28800] as const;

function webhookSettings(env: Env): WebhookSettings {
  const raw = env.KEYWARD_WEBHOOK_RETRY_SCHEDULE;
  let retryScheduleSeconds: readonly number[] = DEFAULT_WEBHOOK_RETRY_SCHEDULE;
  if (raw !== undefined && raw.trim() !== '') {
    const parts = raw.split(',').map((part) => part.trim());
    if (parts.length > 50 || parts.some((part) => !/^\d{1,7}(\.\d{1,3})?$/.test(part))) {
      throw new ConfigError('KEYWARD_WEBHOOK_RETRY_SCHEDULE must be up to 50 comma-separated numbers of seconds, e.g. 5,300,1800');
    }
    retryScheduleSeconds = parts.map(Number);
  }
  return {
    allowPrivateTargets: env.KEYWARD_WEBHOOK_ALLOW_PRIVATE === '1' || env.KEYWARD_WEBHOOK_ALLOW_PRIVATE === 'true',
    retryScheduleSeconds,
    timeoutMs: intSetting(env, 'KEYWARD_WEBHOOK_TIMEOUT_MS', 10_000, 100, 60_000),
    concurrency: intSetting(env, 'KEYWARD_WEBHOOK_CONCURRENCY', 16, 1, 1000),
    delivery: onOff(env, 'KEYWARD_WEBHOOK_DELIVERY', true),
  };
}

function onOff(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'on') return true;
  if (raw === 'off') return false;
  throw new ConfigError(`${name} must be on or off`);
}

function hex32(name: string, value: string): Buffer {
  if (!/^[0-9a-fA-F]{64}$/.test(value)) throw new ConfigError(`${name} must be 64 hex characters (32 bytes)`);
  return Buffer.from(value, 'hex');
}

/** The SQLite file path of a `sqlite:` URL, or null for other URLs. */
export function sqlitePathOf(databaseUrl: string): string | null {
  if (!databaseUrl.startsWith('sqlite:')) return null;
  const path = databaseUrl.slice('sqlite:'.length);
  return path === ':memory:' ? null : resolve(path);
}

interface SecretsFile {
  pepper: string;
  encryptionKey: string;
}

/**
 * With SQLite and no configured secrets, they are generated once into `secrets.json` beside the
 * database (mode 0600) and reused, so `npm start` needs no setup. PostgreSQL deployments must set them.
 */
function loadOrCreateSecrets(databaseUrl: string): SecretsFile | null {
  const dbPath = sqlitePathOf(databaseUrl);
  if (!dbPath) return null;
  const file = resolve(dirname(dbPath), 'secrets.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as SecretsFile;
  mkdirSync(dirname(file), { recursive: true });
  const secrets: SecretsFile = { pepper: randomBytes(32).toString('hex'), encryptionKey: randomBytes(32).toString('hex') };
  writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return secrets;
}

/** Where `npm start` keeps its data without `KEYWARD_DATABASE_URL`: relative to the folder it runs in. */
export const DEFAULT_DATABASE_URL = 'sqlite:./.keyward/keyward.db';

export function loadConfig(env: Env = process.env): Config {
  const port = intSetting(env, 'KEYWARD_PORT', 4000, 0, 65535);
  const host = env.KEYWARD_HOST || '127.0.0.1';
  const databaseUrl = env.KEYWARD_DATABASE_URL || DEFAULT_DATABASE_URL;
  if (!/^(sqlite:|postgres:\/\/|postgresql:\/\/)/.test(databaseUrl)) {
    throw new ConfigError('KEYWARD_DATABASE_URL must be sqlite:<path> or a postgres:// URL');
  }
  const isPostgres = !databaseUrl.startsWith('sqlite:');
  let pepperSetting = env.KEYWARD_PEPPER;
  let encryptionSetting = env.KEYWARD_ENCRYPTION_KEY;
  if (!pepperSetting || !encryptionSetting) {
    if (isPostgres) throw new ConfigError('With PostgreSQL, KEYWARD_PEPPER and KEYWARD_ENCRYPTION_KEY are required (64 hex characters each)');
    const generated = loadOrCreateSecrets(databaseUrl);
    pepperSetting ||= generated?.pepper ?? randomBytes(32).toString('hex');
    encryptionSetting ||= generated?.encryptionKey ?? randomBytes(32).toString('hex');
  }
  let peppers: Pepper[];
  try {
    peppers = parsePepperSetting(pepperSetting);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const keyPrefix = env.KEYWARD_KEY_PREFIX || DEFAULT_KEY_PREFIX;
  try {
    assertValidPrefix(keyPrefix);
  } catch (err) {
    throw new ConfigError(`KEYWARD_KEY_PREFIX: ${(err as Error).message}`);
  }
  let catalogue = defaultCatalogue;
  const catalogueSource = env.KEYWARD_PERMISSION_CATALOGUE ? resolve(env.KEYWARD_PERMISSION_CATALOGUE) : 'default';
  if (env.KEYWARD_PERMISSION_CATALOGUE) {
    try {
      catalogue = parseCatalogue(JSON.parse(readFileSync(resolve(env.KEYWARD_PERMISSION_CATALOGUE), 'utf8')));
    } catch (err) {
      throw new ConfigError(`KEYWARD_PERMISSION_CATALOGUE: ${(err as Error).message}`);
    }
  }
  const publicUrl = (env.KEYWARD_PUBLIC_URL || `http://${host.includes(':') ? `[${host}]` : host}:${port}`).replace(/\/+$/, '');
  try {
    new URL(publicUrl);
  } catch {
    throw new ConfigError('KEYWARD_PUBLIC_URL must be an absolute URL');
  }
  return {
    port,
    host,
    databaseUrl,
    sqliteLockWaitMs: intSetting(env, 'KEYWARD_SQLITE_LOCK_WAIT_MS', 5000, 0, 60_000),
    redisUrl: env.KEYWARD_REDIS_URL || null,
    redisPrefix: env.KEYWARD_REDIS_PREFIX || 'keyward',
    publicUrl,
    publicUrlConfigured: Boolean(env.KEYWARD_PUBLIC_URL),
    peppers,
    encryptionKey: hex32('KEYWARD_ENCRYPTION_KEY', encryptionSetting),
    authFailuresPerMinute: intSetting(env, 'KEYWARD_AUTH_FAILURES_PER_MINUTE', 100, 0, 1_000_000),
    keyCreationsPerMinute: intSetting(env, 'KEYWARD_KEY_CREATIONS_PER_MINUTE', 30, 0, 1_000_000),
    trustedProxies: (env.KEYWARD_TRUSTED_PROXIES ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    keyPrefix,
    catalogue,
    catalogueSource,
    allowRemovedPermissions: env.KEYWARD_CATALOGUE_ALLOW_REMOVED === '1' || env.KEYWARD_CATALOGUE_ALLOW_REMOVED === 'true',
    logLevel: env.KEYWARD_LOG_LEVEL || 'info',
    usageFlushIntervalMs: intSetting(env, 'KEYWARD_USAGE_FLUSH_MS', 5000, 50, 600_000),
    expiryCheckIntervalMs: intSetting(env, 'KEYWARD_EXPIRY_CHECK_MS', 60_000, 50, 3_600_000),
    verifierCacheEntries: intSetting(env, 'KEYWARD_VERIFIER_CACHE_ENTRIES', 1_000_000, 100, 10_000_000),
    maxStreamsPerVerifier: intSetting(env, 'KEYWARD_MAX_STREAMS_PER_VERIFIER', 16, 1, 100_000),
    metricsToken: metricsTokenSetting(env.KEYWARD_METRICS_TOKEN),
    consoleDir: env.KEYWARD_CONSOLE_DIR === '' ? null : resolve(env.KEYWARD_CONSOLE_DIR ?? defaultConsoleDir()),
    secureCookies: publicUrl.startsWith('https://'),
    webhooks: webhookSettings(env),
    githubSecretScanningKeys: githubKeySourceSetting(env.KEYWARD_GITHUB_SECRET_SCANNING_KEYS),
  };
}

/**
 * An https URL, an http URL on a loopback address (a local mirror; tests), or a file that exists.
 * Plain http elsewhere would let anyone on the path swap the keys and forge leak reports.
 */
function githubKeySourceSetting(raw: string | undefined): GitHubKeySource | null {
  if (raw === undefined || raw.trim() === '') return null;
  const name = 'KEYWARD_GITHUB_SECRET_SCANNING_KEYS';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new ConfigError(`${name} is not a valid URL`);
    }
    const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname);
    if (url.protocol === 'https:' || (url.protocol === 'http:' && loopback)) return { kind: 'url', url: url.href };
    throw new ConfigError(`${name} must be an https URL (http only on a loopback address) or a file path`);
  }
  const path = resolve(raw);
  if (!existsSync(path)) throw new ConfigError(`${name}: no file at ${path}`);
  return { kind: 'file', path };
}

/** A guessable token would publish the metrics: at least 16 characters, printable, no spaces. */
function metricsTokenSetting(raw: string | undefined): string | null {
  if (raw === undefined || raw === '') return null;
  if (!/^[\x21-\x7e]{16,256}$/.test(raw)) throw new ConfigError('KEYWARD_METRICS_TOKEN must be 16 to 256 printable characters without spaces');
  return raw;
}

function defaultConsoleDir(): string {
  return resolve(dirname(new URL(import.meta.url).pathname), '../../console/dist');
}
