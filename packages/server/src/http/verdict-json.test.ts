import fc from 'fast-check';
import type { VerdictAnswer } from '@keyward/core';
import { describe, expect, it } from 'vitest';
import { verdictSerializer } from '../routes/verify.js';
import { answerJson } from './verdict-json.js';

const serialize = verdictSerializer();

/** Any text, quotes, backslashes, controls, astral characters and lone surrogates included. */
const anyText = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('"', '\\', '\u0000', '\ud800', 'é', '😀', 'a'.repeat(50)));
/** What the answer schema allows where it has a pattern (organization and user ids, permissions); other members are any text. */
const idOf = (prefix: string) => fc.stringMatching(new RegExp(`^${prefix}_[0-9A-Za-z]{1,24}$`));
const permissionList = fc.array(fc.oneof(fc.constantFrom('traces:read', 'keys:write', 'organization:manage'), fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9]{0,8}:[a-z]{1,8}$/)), { maxLength: 6 });

const int = fc.integer({ min: 0, max: 2 ** 31 - 1 });
const instantText = fc.date({ noInvalidDate: true, min: new Date(0), max: new Date('9999-12-31T23:59:59.999Z') }).map((d) => d.toISOString());
/** Metering's members, each present or not. */
const metering = fc.record(
  {
    rateLimits: fc.array(fc.record({ name: fc.oneof(fc.stringMatching(/^[a-z0-9_-]{1,20}$/), anyText), limit: int, windowSeconds: int, remaining: int, resetAt: instantText }), { maxLength: 3 }),
    credits: fc.record({ remaining: int }),
    retryAfterSeconds: int,
  },
  { requiredKeys: [] },
);

const validAnswer: fc.Arbitrary<VerdictAnswer> = fc.record({
  valid: fc.constant(true as const),
  code: fc.constant('VALID' as const),
  keyId: anyText,
  organizationId: idOf('org'),
  keyType: fc.constantFrom('personal' as const, 'service' as const, 'project' as const),
  ownerUserId: fc.option(idOf('usr'), { nil: null }),
  projectId: fc.option(anyText, { nil: null }),
  expiresAt: fc.option(instantText, { nil: null }),
  permissions: permissionList,
  explanation: anyText,
});

const rejectedAnswer: fc.Arbitrary<VerdictAnswer> = fc.record(
  {
    valid: fc.constant(false as const),
    code: fc.constantFrom('NOT_FOUND' as const, 'EXPIRED' as const, 'REVOKED' as const, 'DISABLED' as const, 'IP_NOT_ALLOWED' as const, 'INSUFFICIENT_PERMISSIONS' as const, 'PROJECT_REQUIRED' as const),
    keyId: anyText,
    organizationId: idOf('org'),
    keyType: fc.constantFrom('personal' as const, 'service' as const, 'project' as const),
    explanation: anyText,
  },
  { requiredKeys: ['valid', 'code', 'explanation'] },
);

describe('answerJson', () => {
  it('writes exactly what the route serializer writes, for any valid or rejected answer, metered or not', () => {
    fc.assert(
      fc.property(fc.oneof(validAnswer, rejectedAnswer), fc.option(metering, { nil: undefined }), (plain, added) => {
        const answer = { ...plain, ...added } as VerdictAnswer;
        const json = answerJson(answer);
        expect(json).not.toBeNull();
        expect(json).toBe(serialize(answer));
      }),
      { numRuns: 2000 },
    );
  });

  it('writes the same JSON again from its shared pieces, and metering members after them', () => {
    const permissions = ['traces:read'];
    const answer: VerdictAnswer = { valid: true, code: 'VALID', keyId: 'key_a', organizationId: 'org_a', keyType: 'service', ownerUserId: null, projectId: 'proj_a', expiresAt: null, permissions, explanation: 'allowed' };
    const first = answerJson(answer);
    expect(answerJson({ ...answer, keyId: 'key_b' })).toBe(first!.replace('key_a', 'key_b'));
    expect(answerJson({ ...answer, explanation: 'other' })).toBe(serialize({ ...answer, explanation: 'other' }));
    expect(answerJson({ ...answer, credits: { remaining: 3 } })).toBe(`${first!.slice(0, -1)},"credits":{"remaining":3}}`);
    expect(answerJson({ valid: false, code: 'RATE_LIMITED', explanation: 'x', retryAfterSeconds: 2 })).toBe('{"valid":false,"code":"RATE_LIMITED","explanation":"x","retryAfterSeconds":2}');
  });
});
