import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PepperRing, digestsEqual, parsePepperSetting } from './key-digest.js';

describe('secret digests', () => {
  const ring = new PepperRing([
    { version: 1, key: randomBytes(32) },
    { version: 2, key: randomBytes(32) },
  ]);

  it('computes exactly HMAC-SHA-256 under each pepper version', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.constantFrom(1, 2), (secret, version) => {
        expect(ring.digest(secret, version).equals(ring.referenceDigest(secret, version))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('uses the highest version as current', () => {
    expect(ring.current.version).toBe(2);
    expect(ring.versions).toEqual([2, 1]);
  });

  it('keys the digest: the same secret under two peppers differs', () => {
    expect(ring.digest('s', 1).equals(ring.digest('s', 2))).toBe(false);
  });

  it('hashes long peppers first, as RFC 2104 says', () => {
    const long = new PepperRing([{ version: 1, key: randomBytes(100) }]);
    expect(long.digest('abc').equals(long.referenceDigest('abc'))).toBe(true);
  });

  it('compares in constant time and refuses different lengths', () => {
    const a = ring.digest('x');
    expect(digestsEqual(a, Buffer.from(a))).toBe(true);
    expect(digestsEqual(a, ring.digest('y'))).toBe(false);
    expect(digestsEqual(a, a.subarray(0, 16))).toBe(false);
  });

  it('parses KEYWARD_PEPPER in its plain and versioned forms', () => {
    const hex = 'ab'.repeat(32);
    expect(parsePepperSetting(hex)).toEqual([{ version: 1, key: Buffer.from(hex, 'hex') }]);
    const two = parsePepperSetting(`v2:${'cd'.repeat(32)},v1:${hex}`);
    expect(two.map((p) => p.version)).toEqual([2, 1]);
    expect(() => parsePepperSetting('short')).toThrow();
  });
});
