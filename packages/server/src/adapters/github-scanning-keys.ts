import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Clock } from '@keyward/core';

/**
 * The public keys GitHub signs secret-scanning reports with, from a document shaped like
 * `https://api.github.com/meta/public_keys/secret_scanning`:
 * `{"public_keys":[{"key_identifier","key","is_current"}]}`, `key` an ECDSA P-256 public key in PEM.
 */
export type GitHubKeySource = { readonly kind: 'file'; readonly path: string } | { readonly kind: 'url'; readonly url: string };

export class KeyDocumentError extends Error {}

/** The largest key document read; GitHub's is about 1 KB. */
const MAX_DOCUMENT_BYTES = 256 * 1024;

/**
 * The keys of a key document by identifier. Every listed key is accepted, current or not: GitHub
 * marks a key not current while reports it signed may still be on their way (crates.io refused
 * those and lost alerts at each rotation). Anything but a P-256 public key is refused, so a
 * misconfigured document fails loudly rather than verifying nothing.
 */
export function parseKeyDocument(text: string): Map<string, KeyObject> {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new KeyDocumentError('the key document is not JSON');
  }
  const list = (document as { public_keys?: unknown } | null)?.public_keys;
  if (!Array.isArray(list)) throw new KeyDocumentError('the key document has no "public_keys" array');
  const keys = new Map<string, KeyObject>();
  list.forEach((entry: unknown, index) => {
    const { key_identifier: identifier, key: pem } = (entry ?? {}) as { key_identifier?: unknown; key?: unknown };
    if (typeof identifier !== 'string' || identifier.length === 0 || identifier.length > 512) {
      throw new KeyDocumentError(`public_keys[${index}].key_identifier must be a non-empty string`);
    }
    if (typeof pem !== 'string') throw new KeyDocumentError(`public_keys[${index}].key must be a PEM string`);
    let key: KeyObject;
    try {
      key = createPublicKey(pem);
    } catch {
      throw new KeyDocumentError(`public_keys[${index}].key is not a PEM public key`);
    }
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new KeyDocumentError(`public_keys[${index}].key is not an ECDSA P-256 key`);
    }
    keys.set(identifier, key);
  });
  if (keys.size === 0) throw new KeyDocumentError('the key document lists no key');
  return keys;
}

/**
 * Whether `signature` (base64 of a DER ECDSA signature, GitHub's `Github-Public-Key-Signature`) is
 * `key`'s signature of `payload` with SHA-256. Malformed base64 or DER is simply not a signature.
 */
export function isValidSignature(key: KeyObject, payload: Buffer, signature: string): boolean {
  if (!/^[A-Za-z0-9+/]{8,400}={0,2}$/.test(signature)) return false;
  try {
    return verify('sha256', payload, { key, dsaEncoding: 'der' }, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

export type KeyLookup =
  | { readonly kind: 'found'; readonly key: KeyObject }
  /** The document was read and does not list the identifier. */
  | { readonly kind: 'unknown' }
  /** No key document could be read yet (unreachable, timed out, malformed). */
  | { readonly kind: 'unavailable' };

export interface GitHubScanningKeys {
  find(identifier: string): Promise<KeyLookup>;
}

export interface GitHubScanningKeysOptions {
  readonly source: GitHubKeySource;
  readonly clock: Clock;
  /** How long a document is used before it is read again (default an hour). */
  readonly maxAgeMs?: number;
  /**
   * The least time between two reads of the document (default 5 minutes). An unknown identifier
   * triggers a read, and anyone can send one, so this bounds how often we ask GitHub, whose endpoint
   * is rate-limited (60 requests an hour per address without a token).
   */
  readonly cooldownMs?: number;
  /** A read of the URL that takes longer fails (default 5 s): a report never hangs on GitHub. */
  readonly timeoutMs?: number;
  readonly onError?: (err: unknown) => void;
}

/**
 * The key document, read once and cached. It is read again when it is older than `maxAgeMs`, or when
 * a report names an identifier it does not list (GitHub rotated its keys), at most once per
 * `cooldownMs` and by one read at a time. A failed read keeps the keys already known. URLs are read
 * with a timeout, without following redirects, with the last `ETag` (GitHub answers 304 for free).
 */
export function createGitHubScanningKeys(options: GitHubScanningKeysOptions): GitHubScanningKeys {
  const { source, clock } = options;
  const maxAgeMs = options.maxAgeMs ?? 3_600_000;
  const cooldownMs = options.cooldownMs ?? 300_000;
  const timeoutMs = options.timeoutMs ?? 5_000;
  let keys: Map<string, KeyObject> | null = null;
  let readAt = -Infinity;
  let attemptedAt = -Infinity;
  let etag: string | null = null;
  let reading: Promise<void> | null = null;

  async function readDocument(): Promise<string | null> {
    if (source.kind === 'file') {
      const text = await readFile(source.path, 'utf8');
      if (text.length > MAX_DOCUMENT_BYTES) throw new KeyDocumentError('the key document is too large');
      return text;
    }
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'keyward-secret-scanning' };
    if (etag && keys) headers['if-none-match'] = etag;
    const response = await fetch(source.url, { headers, redirect: 'error', signal: AbortSignal.timeout(timeoutMs) });
    if (response.status === 304 && keys) return null;
    if (response.status !== 200) throw new KeyDocumentError(`the key document answered HTTP ${response.status}`);
    const text = await response.text();
    if (text.length > MAX_DOCUMENT_BYTES) throw new KeyDocumentError('the key document is too large');
    etag = response.headers.get('etag');
    return text;
  }

  async function refresh(): Promise<void> {
    attemptedAt = clock.now().getTime();
    try {
      const text = await readDocument();
      if (text !== null) keys = parseKeyDocument(text);
      readAt = clock.now().getTime();
    } catch (err) {
      options.onError?.(err);
    }
  }

  return {
    async find(identifier) {
      const now = clock.now().getTime();
      const stale = now - readAt >= maxAgeMs;
      const listed = keys?.has(identifier) ?? false;
      if ((stale || !listed) && now - attemptedAt >= cooldownMs) {
        reading ??= refresh().finally(() => {
          reading = null;
        });
      }
      if (reading) await reading;
      const key = keys?.get(identifier);
      if (key) return { kind: 'found', key };
      return keys ? { kind: 'unknown' } : { kind: 'unavailable' };
    },
  };
}
