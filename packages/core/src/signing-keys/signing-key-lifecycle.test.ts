import { describe, expect, it } from 'vitest';
import { parseScope } from '../tokens/token-scope.js';
import { defaultCatalogue } from '../permissions/catalogue.js';
import type { SigningKeyRecord } from './signing-key.js';
import { isPublishedAt, promotableAt, retirementDueAt, signingKeyViewAt } from './signing-key-lifecycle.js';

const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1) + seconds * 1000);
const key = (overrides: Partial<SigningKeyRecord>): SigningKeyRecord => ({
  id: 'sk_test',
  orgId: 'org_test',
  algorithm: 'ES256',
  state: 'current',
  publicJwk: {},
  privateKeyCiphertext: 'v1.a.b.c',
  createdAt: at(0),
  publishedAt: at(0),
  activatedAt: at(0),
  deactivatedAt: null,
  retiredAt: null,
  compromisedAt: null,
  ...overrides,
});

describe('signing-key lifecycle', () => {
  it('keeps a previous key published for the token lifetime plus 60 s after its last signature, then retires it', () => {
    const previous = key({ state: 'previous', deactivatedAt: at(1000) });
    expect(retirementDueAt(previous, 600)).toEqual(at(1660));
    expect(isPublishedAt(previous, at(1659), 600)).toBe(true);
    expect(isPublishedAt(previous, at(1660), 600)).toBe(false);
    expect(signingKeyViewAt(previous, at(1660), 600)).toMatchObject({ state: 'retired', retiredAt: at(1660) });
    expect(signingKeyViewAt(previous, at(1659), 600)).toMatchObject({ state: 'previous', retiredAt: null });
  });

  it('lets a next key be promoted ten minutes after it was published; never publishes a compromised key', () => {
    expect(promotableAt(key({ state: 'next', publishedAt: at(5) }))).toEqual(at(605));
    expect(isPublishedAt(key({ state: 'next' }), at(1), 600)).toBe(true);
    expect(isPublishedAt(key({ compromisedAt: at(1) }), at(1), 600)).toBe(false);
    expect(retirementDueAt(key({ state: 'current' }), 600)).toBeNull();
  });
});

describe('token scope', () => {
  it('takes space-delimited catalogue permissions, adds the reads writes imply, and names what is wrong', () => {
    expect(parseScope(defaultCatalogue, 'traces:write traces:write')).toEqual(['traces:write', 'traces:read']);
    expect(parseScope(defaultCatalogue, 'organization:manage')).toEqual(['organization:manage']);
    for (const bad of ['', ' traces:read', 'traces:read ', 'traces:read  datasets:read', 'traces:"read', 'traces:read\\tx']) {
      expect(parseScope(defaultCatalogue, bad)).toHaveProperty('problem');
    }
    expect(parseScope(defaultCatalogue, 'traces:read nope:read')).toEqual({ problem: 'nope:read is not a permission of this deployment.' });
    expect(parseScope(defaultCatalogue, 'cost:write')).toHaveProperty('problem');
  });
});
