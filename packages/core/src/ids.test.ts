import { describe, expect, it } from 'vitest';
import { BASE62, hasPrefix, prefixedIds, randomBase62 } from './ids.js';

describe('randomBase62', () => {
  it('draws exactly the length asked for, from the base62 alphabet', () => {
    for (const length of [0, 1, 16, 43, 5000]) {
      const value = randomBase62(length);
      expect(value).toHaveLength(length);
      expect(value).toMatch(/^[0-9A-Za-z]*$/);
    }
  });

  it('never repeats an id, across many refills of its byte pool', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) seen.add(randomBase62(16));
    expect(seen.size).toBe(20_000);
  });

  it('uses every character about equally often (no modulo bias)', () => {
    const counts = new Map<string, number>();
    const draws = 62 * 10_000;
    for (const char of randomBase62(draws)) counts.set(char, (counts.get(char) ?? 0) + 1);
    expect(counts.size).toBe(62);
    // 10,000 expected per character, standard deviation about 100: 5% is five of them.
    for (const char of BASE62) expect(Math.abs(counts.get(char)! - 10_000), char).toBeLessThan(500);
  });
});

describe('prefixedIds', () => {
  it('makes ids with their prefix and 16 characters', () => {
    const id = prefixedIds.next('evt');
    expect(id).toMatch(/^evt_[0-9A-Za-z]{16}$/);
    expect(hasPrefix(id, 'evt')).toBe(true);
  });
});
