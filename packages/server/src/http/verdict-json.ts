import type { VerdictAnswer } from '@keyward/core';

/** Distinct explanations kept per permission list, at most (each list's map starts over past it). */
const TAILS_PER_LIST = 64;
/**
 * The JSON of a VALID answer's permission list and explanation (the members before metering's), by
 * permission list and explanation: both are shared by every verification decided alike, so their
 * JSON is made once.
 */
const tails = new WeakMap<readonly string[], Map<string, string>>();

function tailOf(permissions: readonly string[], explanation: string): string {
  let byExplanation = tails.get(permissions);
  if (!byExplanation) tails.set(permissions, (byExplanation = new Map()));
  let tail = byExplanation.get(explanation);
  if (tail === undefined) {
    if (byExplanation.size >= TAILS_PER_LIST) byExplanation.clear();
    tail = `,"permissions":${JSON.stringify(permissions)},"explanation":${JSON.stringify(explanation)}`;
    byExplanation.set(explanation, tail);
  }
  return tail;
}

const text = (value: string): string => JSON.stringify(value);
const orNull = (value: string | null): string => (value === null ? 'null' : JSON.stringify(value));

/** What metering adds to an answer, each member led by a comma, in the schema's order; '' for none. */
function meteringMembers(answer: VerdictAnswer): string {
  let json = '';
  const { rateLimits, credits, retryAfterSeconds } = answer;
  if (rateLimits !== undefined) {
    json += ',"rateLimits":[';
    for (let i = 0; i < rateLimits.length; i++) {
      const w = rateLimits[i]!;
      json += `${i ? ',' : ''}{"name":${text(w.name)},"limit":${w.limit},"windowSeconds":${w.windowSeconds},"remaining":${w.remaining},"resetAt":${text(w.resetAt)}}`;
    }
    json += ']';
  }
  if (credits !== undefined) json += `,"credits":{"remaining":${credits.remaining}}`;
  if (retryAfterSeconds !== undefined) json += `,"retryAfterSeconds":${retryAfterSeconds}`;
  return json;
}

/**
 * An answer's JSON, byte for byte as the route's serializer (fast-json-stringify over
 * `wire.verifyKeyResponse`) writes it, from pieces: the per-key members written out, the decision's
 * permission list and explanation from a shared piece, metering's members last. Null when a member
 * it expects is missing (the serializer writes that answer). `verdict-json.test.ts` checks it against
 * the serializer on generated answers.
 */
export function answerJson(answer: VerdictAnswer): string | null {
  if (answer.valid) {
    const { keyId, organizationId, keyType, ownerUserId, projectId, expiresAt, permissions, explanation } = answer;
    if (ownerUserId === undefined || projectId === undefined || expiresAt === undefined || !Array.isArray(permissions)) return null;
    return `{"valid":true,"code":"VALID","keyId":${text(keyId)},"organizationId":${text(organizationId)},"keyType":${text(keyType)},"ownerUserId":${orNull(ownerUserId)},"projectId":${orNull(projectId)},"expiresAt":${orNull(expiresAt)}${tailOf(permissions, explanation)}${meteringMembers(answer)}}`;
  }
  let json = `{"valid":false,"code":${text(answer.code)}`;
  if (answer.keyId !== undefined) json += `,"keyId":${text(answer.keyId)}`;
  if (answer.organizationId !== undefined) json += `,"organizationId":${text(answer.organizationId)}`;
  if (answer.keyType !== undefined) json += `,"keyType":${text(answer.keyType)}`;
  return `${json},"explanation":${text(answer.explanation)}${meteringMembers(answer)}}`;
}
