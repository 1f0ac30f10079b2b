import { postgresAvailable } from '@keyward/store/testing';
import type { Dialect } from './server.js';

/**
 * The dialects a black-box suite runs against: SQLite always; PostgreSQL when it answers, and always
 * under CI=true (where an unreachable PostgreSQL then fails the suite instead of skipping it).
 */
export async function dialects(): Promise<Dialect[]> {
  if (process.env.CI === 'true') return ['sqlite', 'postgres'];
  if (await postgresAvailable()) return ['sqlite', 'postgres'];
  console.warn('PostgreSQL is not reachable at 127.0.0.1:5432: black-box suites run on SQLite only (they would fail under CI=true).');
  return ['sqlite'];
}
