import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createKeyFormat, checksumOf, SECRET_LENGTH } from './key-format.js';
import { randomBase62 } from '../ids.js';
import { crc32 } from 'node:zlib';

const format = createKeyFormat('kw_');

describe('key format', () => {
  it('generates tokens that match the published pattern and parse back', () => {
    const lookupId = randomBase62(16);
    const { token, secret } = format.generate(lookupId);
    expect(token).toMatch(format.pattern);
    expect(token.length).toBeLessThanOrEqual(255);
    expect(secret).toHaveLength(SECRET_LENGTH);
    expect(format.parse(token)).toEqual({ kind: 'lookup', lookupId, secret });
  });

  it('generates project keys without a lookup id and with no "_" after the prefix', () => {
    const { token, secret } = format.generateProjectKey();
    expect(token).toMatch(format.pattern);
    expect(token.slice(3)).not.toContain('_');
    expect(format.parse(token)).toEqual({ kind: 'project', secret });
  });

  it('writes the checksum as the CRC32 in 6 base62 digits, most significant first', () => {
    const text = 'kw_abc';
    let value = crc32(text);
    const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    let expected = '';
    for (let i = 0; i < 6; i++) {
      expected = alphabet[value % 62] + expected;
      value = Math.floor(value / 62);
    }
    expect(checksumOf(text)).toBe(expected);
  });

  it('rejects every one-character change through the checksum', () => {
    const { token } = format.generate(randomBase62(16));
    const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_';
    fc.assert(
      fc.property(fc.integer({ min: 0, max: token.length - 1 }), fc.integer({ min: 0, max: alphabet.length - 1 }), (position, pick) => {
        const replacement = alphabet[pick]!;
        fc.pre(token[position] !== replacement);
        const changed = token.slice(0, position) + replacement + token.slice(position + 1);
        expect(format.parse(changed)).toBeNull();
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects other prefixes, lengths and alphabets', () => {
    const { token } = format.generate(randomBase62(16));
    expect(format.parse(`x${token}`)).toBeNull();
    expect(format.parse(token.slice(0, -1))).toBeNull();
    expect(format.parse(token.replace('kw_', 'kx_'))).toBeNull();
    expect(format.parse('')).toBeNull();
    expect(format.parse(`${token}\n`)).toBeNull();
    expect(format.parse('kw_' + 'é'.repeat(66))).toBeNull();
  });

  it('previews as the prefix, an ellipsis and the last four characters', () => {
    const { token } = format.generate(randomBase62(16));
    expect(format.preview(token)).toBe(`kw_…${token.slice(-4)}`);
  });

  it('draws 10^5 distinct secrets from the whole base62 alphabet, evenly (chi-square)', () => {
    const seen = new Set<string>();
    const counts = new Map<string, number>();
    for (let i = 0; i < 100_000; i++) {
      const secret = randomBase62(SECRET_LENGTH);
      seen.add(secret);
      for (const ch of secret) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    }
    expect(seen.size).toBe(100_000);
    expect(counts.size).toBe(62);
    const total = 100_000 * SECRET_LENGTH;
    const expected = total / 62;
    const chiSquare = [...counts.values()].reduce((sum, n) => sum + (n - expected) ** 2 / expected, 0);
    // 61 degrees of freedom: p = 0.001 at about 100.9.
    expect(chiSquare).toBeLessThan(100.9);
  });

  it('accepts operator prefixes such as sk-lw- and refuses unsafe ones', () => {
    const lw = createKeyFormat('sk-lw-');
    const { token } = lw.generate(randomBase62(16));
    expect(token.startsWith('sk-lw-')).toBe(true);
    expect(lw.parse(token)).not.toBeNull();
    expect(() => createKeyFormat('a_b_')).toThrow();
    expect(() => createKeyFormat('kw')).toThrow();
    expect(() => createKeyFormat('(.*)_')).toThrow();
  });
});
