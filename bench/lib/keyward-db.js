// Keyward SQLite databases with many keys, built once and cached under bench/.cache/.
//
// Creating a million keys through the API would take far too long, so the organization, the
// verifier credential, one template service key and the revoked keys are made through the real
// operator commands and API, and the bulk keys are then written straight into the SQLite file: rows
// cloned from the template, with ids, digests and previews computed by core (the key format's
// checksum, HMAC-SHA-256 under the server's pepper). Their secrets are derived from a seed kept in
// the cache, so the load generator can rebuild every token without storing a million of them.
// Every key is a service key bound to one project, so asking for a project permission needs no
// project id (as for a gateway key of one service).

import { execFileSync } from 'node:child_process';
import { hash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_KEY_PREFIX, LOOKUP_ID_LENGTH, PepperRing, SECRET_LENGTH, checksumOf, createKeyFormat, keyIdFromLookupId, parsePepperSetting } from '@keyward/core';
import Database from 'better-sqlite3';
import { freePort, onExit, root, serverMain, startNode, stopChild, waitForHttp } from './processes.js';

export const cacheDir = join(root, 'bench/.cache');
/** Bump when the way cached databases are built changes, so stale caches are rebuilt. */
const CACHE_VERSION = 4;
const BASE62_CODES = Buffer.from('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', 'latin1');
/** The permission every verification in the benchmark asks for (a service key that is ADMIN of its organization has it). */
export const BENCH_PERMISSION = 'traces:read';

/**
 * Token `i` of a key set: `<prefix><lookupId>_<secret><checksum>` with the lookup id and the secret
 * drawn from SHA-512(seed:i). Well-formed and with a correct checksum, so the server does the full
 * work (lookup, digest, comparison) for it, stored or not.
 */
export function tokenFactory(seed, prefix = DEFAULT_KEY_PREFIX) {
  const length = LOOKUP_ID_LENGTH + SECRET_LENGTH;
  return (i) => {
    const bytes = hash('sha512', `${seed}:${i}`, 'buffer');
    for (let j = 0; j < length; j++) bytes[j] = BASE62_CODES[bytes[j] % 62];
    const chars = bytes.toString('latin1', 0, length);
    const lookupId = chars.slice(0, LOOKUP_ID_LENGTH);
    const secret = chars.slice(LOOKUP_ID_LENGTH);
    const signed = `${prefix}${lookupId}_${secret}`;
    return { lookupId, secret, token: signed + checksumOf(signed) };
  };
}

function cli(args, env) {
  return JSON.parse(execFileSync(process.execPath, [serverMain, ...args, '--json'], { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8' }));
}

async function api(url, token, method, path, body) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return JSON.parse(text);
}

/**
 * The cached database with `keyCount` bulk keys (plus the template and `revokedCount` revoked keys),
 * built if missing. Returns its description; `copyForRun` gives a private copy to serve from.
 */
export async function keywardDatabase(keyCount, { revokedCount = 200, log = () => {} } = {}) {
  const dir = join(cacheDir, `keyward-${keyCount}-revoked-${revokedCount}`);
  const metaFile = join(dir, 'meta.json');
  if (existsSync(metaFile)) {
    const meta = JSON.parse(readFileSync(metaFile, 'utf8'));
    if (meta.version === CACHE_VERSION && meta.keyCount === keyCount && meta.revokedTokens.length === revokedCount && existsSync(join(dir, 'keyward.db'))) {
      log(`using the cached database with ${keyCount.toLocaleString('en-US')} keys (${dir})`);
      return describe(dir, meta);
    }
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const started = Date.now();
  log(`building a database with ${keyCount.toLocaleString('en-US')} keys in ${dir} (cached for later runs)`);
  // The setup makes hundreds of keys in seconds: the per-person creation rate is off for it.
  const env = { KEYWARD_DATABASE_URL: `sqlite:${join(dir, 'keyward.db')}`, KEYWARD_LOG_LEVEL: 'warn', KEYWARD_CONSOLE_DIR: '', KEYWARD_KEY_CREATIONS_PER_MINUTE: '0' };
  // Operator commands refuse a store that does not exist yet: `migrate` makes it, as an operator would.
  execFileSync(process.execPath, [serverMain, 'migrate'], { cwd: root, env: { ...process.env, ...env }, stdio: 'ignore' });
  const org = cli(['admin', 'create-org', '--name', 'Bench', '--owner-email', 'bench@example.test'], env);
  const verifier = cli(['admin', 'create-verifier', '--name', 'bench'], env);

  // The template and the revoked keys go through the API, as an operator would make them.
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const { child } = await startNode([serverMain, 'serve'], { env: { ...env, KEYWARD_PORT: String(port), KEYWARD_HOST: '127.0.0.1' }, label: 'keyward (setup)' });
  const revokedTokens = [];
  let templateId;
  let projectId;
  try {
    await waitForHttp(`${url}/healthz`);
    const admin = org.adminKey.token;
    projectId = (await api(url, admin, 'POST', '/api/projects', { name: 'bench' })).project.id;
    const keyBody = (name) => ({ name, keyType: 'service', projectIds: [projectId] });
    templateId = (await api(url, admin, 'POST', '/api/api-keys', keyBody('bench template'))).apiKey.id;
    for (let i = 0; i < revokedCount; i++) {
      const created = await api(url, admin, 'POST', '/api/api-keys', keyBody(`bench revoked ${i}`));
      await api(url, admin, 'DELETE', `/api/api-keys/${created.apiKey.id}`);
      revokedTokens.push(created.token);
    }
  } finally {
    await stopChild(child);
  }

  const secrets = JSON.parse(readFileSync(join(dir, 'secrets.json'), 'utf8'));
  const peppers = new PepperRing(parsePepperSetting(secrets.pepper));
  const keyFormat = createKeyFormat(DEFAULT_KEY_PREFIX);
  const seed = `bench-${Date.now().toString(36)}-${hash('sha256', dir).slice(0, 8)}`;
  const tokenOf = tokenFactory(seed);
  if (!keyFormat.parse(tokenOf(0).token)) throw new Error('derived tokens do not parse with core\'s key format');

  // A bulk load into a file that is rebuilt if anything goes wrong: no journal, no fsync, and a page
  // cache large enough for the three random-order indexes (id, lookup id, digest).
  const db = new Database(join(dir, 'keyward.db'));
  db.pragma('journal_mode = DELETE');
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.pragma(`cache_size = -${512 * 1024}`);
  const bulkStarted = Date.now();
  const template = db.prepare('select * from api_keys where id = ?').get(templateId);
  const columns = Object.keys(template);
  const at = (name) => columns.indexOf(name);
  const slots = { id: at('id'), lookupId: at('lookup_id'), name: at('name'), nameLower: at('name_lower'), digest: at('secret_digest'), pepper: at('pepper_version'), preview: at('preview'), created: at('created_at'), updated: at('updated_at') };
  const insert = db.prepare(`insert into api_keys (${columns.join(', ')}) values (${columns.map(() => '?').join(', ')})`);
  // Rows go in in the order of their ids, so the primary key and the lookup-id index grow at their
  // end; the other secondary indexes are dropped and built again afterwards (one sort each).
  const ids = Array.from({ length: keyCount }, (_, i) => tokenOf(i).lookupId);
  const order = Uint32Array.from({ length: keyCount }, (_, i) => i).sort((a, b) => (ids[a] < ids[b] ? -1 : ids[a] > ids[b] ? 1 : 0));
  const indexes = db.prepare("select name, sql from sqlite_master where type = 'index' and tbl_name = 'api_keys' and sql is not null").all();
  for (const { name } of indexes) db.exec(`drop index "${name}"`);
  const insertChunk = db.transaction((from, to) => {
    const now = Date.now();
    const row = Object.values(template);
    for (let n = from; n < to; n++) {
      const i = order[n];
      const { lookupId, secret, token } = tokenOf(i);
      row[slots.id] = keyIdFromLookupId(lookupId);
      row[slots.lookupId] = lookupId;
      row[slots.name] = row[slots.nameLower] = `bench key ${i}`;
      row[slots.digest] = peppers.digest(secret).toString('hex');
      row[slots.pepper] = peppers.current.version;
      row[slots.preview] = keyFormat.preview(token);
      row[slots.created] = row[slots.updated] = now;
      insert.run(row);
    }
  });
  const chunk = 100_000;
  for (let from = 0; from < keyCount; from += chunk) {
    insertChunk(from, Math.min(keyCount, from + chunk));
    await new Promise((r) => setImmediate(r)); // lets an interrupt be handled between chunks
    if (keyCount > chunk) log(`  ${Math.min(keyCount, from + chunk).toLocaleString('en-US')} keys written`);
  }
  for (const { sql } of indexes) db.exec(sql);
  db.pragma('journal_mode = WAL');
  db.close();
  log(`  bulk insert: ${Math.round((Date.now() - bulkStarted) / 100) / 10} s`);

  const meta = {
    version: CACHE_VERSION,
    keyCount,
    seed,
    organizationId: org.organizationId,
    verifierToken: verifier.token,
    adminToken: org.adminKey.token,
    projectId,
    templateId,
    revokedTokens,
    builtAt: new Date().toISOString(),
    buildSeconds: Math.round((Date.now() - started) / 100) / 10,
  };
  writeFileSync(metaFile, `${JSON.stringify(meta, null, 2)}\n`);
  log(`built in ${meta.buildSeconds} s`);
  return describe(dir, meta);
}

function describe(dir, meta) {
  return {
    ...meta,
    dir,
    tokenOf: tokenFactory(meta.seed),
    /** Tokens that are well-formed (correct checksum) but stored nowhere. */
    unknownTokenOf: tokenFactory(`${meta.seed}-unknown`),
    /** A private copy of the database and its secrets, removed by `remove()`. */
    copyForRun() {
      const runDir = mkdtempSync(join(tmpdir(), 'keyward-bench-'));
      const remove = onExit(() => rmSync(runDir, { recursive: true, force: true }));
      copyFileSync(join(dir, 'keyward.db'), join(runDir, 'keyward.db'));
      copyFileSync(join(dir, 'secrets.json'), join(runDir, 'secrets.json'));
      return { dir: runDir, databaseFile: join(runDir, 'keyward.db'), remove };
    },
  };
}
