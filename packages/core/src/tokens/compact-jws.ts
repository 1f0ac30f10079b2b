import { sign, verify, type KeyObject } from 'node:crypto';
import type { SigningAlgorithm } from '../orgs/organization.js';

/**
 * JWS compact serialization over raw `node:crypto` (RFC 7515), for the three algorithms signing keys
 * use. Issuance signs on every token request: `crypto.sign` is about three times faster than jose's
 * `SignJWT` for ES256 (BENCHMARKING.md), with the header encoded once per key.
 */

const digestOf: Record<SigningAlgorithm, string | null> = { ES256: 'sha256', RS256: 'sha256', EdDSA: null };
/** Signature lengths where the algorithm fixes them (ES256 is r‖s, 64 bytes; Ed25519 is 64 bytes). */
const signatureLength: Partial<Record<SigningAlgorithm, number>> = { ES256: 64, EdDSA: 64 };

export function signingInputSignature(algorithm: SigningAlgorithm, key: KeyObject, signingInput: string): Buffer {
  const data = Buffer.from(signingInput, 'latin1');
  // JWS wants ECDSA signatures as r‖s (IEEE P1363), not DER.
  return algorithm === 'ES256' ? sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' }) : sign(digestOf[algorithm], data, key);
}

export function signatureMatches(algorithm: SigningAlgorithm, key: KeyObject, signingInput: string, signature: Buffer): boolean {
  const expected = signatureLength[algorithm];
  if (expected !== undefined && signature.length !== expected) return false;
  const data = Buffer.from(signingInput, 'latin1');
  try {
    return algorithm === 'ES256'
      ? verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature)
      : verify(digestOf[algorithm], data, key, signature);
  } catch {
    return false;
  }
}

/** `encodedHeader.payload.signature`, the payload serialized and encoded here. */
export function signCompact(encodedHeader: string, algorithm: SigningAlgorithm, key: KeyObject, payload: object): string {
  const signingInput = `${encodedHeader}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${signingInput}.${signingInputSignature(algorithm, key, signingInput).toString('base64url')}`;
}

export interface DecodedCompact {
  readonly header: Record<string, unknown>;
  readonly payload: Record<string, unknown>;
  readonly signingInput: string;
  readonly signature: Buffer;
}

const segment = /^[A-Za-z0-9_-]+$/;
/** Longest token accepted anywhere: an RS256 token of this server is about 1 KB. */
export const MAX_TOKEN_LENGTH = 8192;

/** Whether a presented credential has the shape of a JWS (three base64url segments); no I/O, no parsing. */
export function looksLikeJws(token: string): boolean {
  if (token.length > MAX_TOKEN_LENGTH || !token.startsWith('eyJ')) return false;
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  return first > 0 && second > first + 1 && second < token.length - 1 && token.indexOf('.', second + 1) === -1;
}

function decodeSegment(text: string): Buffer | null {
  // Buffer.from(…, 'base64url') skips characters it does not know; a JWS segment must have none.
  if (!segment.test(text) || text.length % 4 === 1) return null;
  return Buffer.from(text, 'base64url');
}

function jsonObject(bytes: Buffer): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Splits and decodes a compact JWS, strictly: null for anything malformed. Checks no signature. */
export function decodeCompact(token: string): DecodedCompact | null {
  if (!looksLikeJws(token)) return null;
  const [encodedHeader, encodedPayload, encodedSignature] = token.split('.') as [string, string, string];
  const headerBytes = decodeSegment(encodedHeader);
  const payloadBytes = decodeSegment(encodedPayload);
  const signature = decodeSegment(encodedSignature);
  if (!headerBytes || !payloadBytes || !signature) return null;
  const header = jsonObject(headerBytes);
  const payload = jsonObject(payloadBytes);
  if (!header || !payload) return null;
  return { header, payload, signingInput: `${encodedHeader}.${encodedPayload}`, signature };
}
