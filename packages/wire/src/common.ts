import { z } from 'zod';

/*
 * Text at the boundary (issue 10). Every text a request carries is checked here, once, so SQLite and
 * PostgreSQL see the same strings: PostgreSQL's text type cannot hold NUL (a 500 there, stored as
 * sent by SQLite), and an unpaired UTF-16 surrogate has no UTF-8 form (both drivers would store U+FFFD,
 * something else than was sent). Control characters make no sense in a name, an email or an id and
 * can forge lines in logs and terminals. The patterns carry the `u` flag, so a surrogate *pair* (an
 * emoji) is one code point and passes, and they are plain JSON Schema `pattern`s: the OpenAPI document
 * shows them and Ajv (the verify fast lane) enforces them as zod does.
 */
/* eslint-disable no-control-regex -- refusing control characters is the point of these patterns */
/** Single-line text: no C0 or C1 control character (tab and line breaks included), DEL, U+2028/U+2029, or unpaired surrogate. */
const singleLineTextPattern = /^[^\u0000-\u001F\u007F-\u009F\u2028\u2029\uD800-\uDFFF]*$/u;
/** Multi-line text (descriptions): the same, but tab, line feed and carriage return are allowed. */
const multiLineTextPattern = /^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uD800-\uDFFF]*$/u;
/* eslint-enable no-control-regex */

/**
 * Whether `text` passes `safeText` (single-line unless `multiline`), for input zod does not parse
 * (the OAuth forms).
 *
 * @example
 * if (!isSafeText(value)) throw oauthErrors.invalidRequest(`${name} holds a control character.`);
 */
export function isSafeText(text: string, options: { multiline?: boolean } = {}): boolean {
  return (options.multiline ? multiLineTextPattern : singleLineTextPattern).test(text);
}

/**
 * The building block of every text field of a request: a string without NUL, other control
 * characters or unpaired surrogates (`multiline` lets tab, line feed and carriage return through).
 * Bad text is 422 `validation_failed` with a reason naming the field, the same on every database.
 * `trim` strips surrounding whitespace first, so a pasted name's trailing line break is dropped, not
 * refused (one inside it still is).
 *
 * @example
 * const createTeamBody = z.strictObject({ name: safeText({ trim: true }).min(1).max(100) });
 * const note = safeText({ multiline: true }).max(1000);
 */
export function safeText(options: { multiline?: boolean; trim?: boolean } = {}) {
  const text = options.trim ? z.string().trim() : z.string();
  return options.multiline
    ? text.regex(multiLineTextPattern, 'must not contain control characters other than tab and line breaks, nor unpaired surrogates')
    : text.regex(singleLineTextPattern, 'must not contain control characters, line breaks or unpaired surrogates');
}

/** An RFC 3339 instant in UTC, as every time in the API is written. */
export const instant = z.iso.datetime({ offset: true }).describe('RFC 3339 timestamp');
/** What a request may give for a time: an RFC 3339 instant, or a date (`2030-01-01`, meaning midnight UTC). */
export const instantOrDate = z.union([z.iso.datetime({ offset: true }), z.iso.date()]).describe('RFC 3339 timestamp, or a date (midnight UTC)');
export const idOf = (prefix: string) =>
  z
    .string()
    .regex(new RegExp(`^${prefix}_[0-9A-Za-z]{1,64}$`), `must be an id starting with "${prefix}_"`)
    .describe(`An id with the "${prefix}_" prefix`);

export const orgId = idOf('org');
export const userId = idOf('usr');
export const teamId = idOf('team');
export const projectId = idOf('proj');
export const keyId = idOf('key');
export const roleBindingId = idOf('rb');

/** A list answer: one page of items and the cursor of the next page (null on the last). */
export const page = <T extends z.ZodType>(item: T) =>
  z.object({ data: z.array(item), nextCursor: z.string().nullable() });

export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50).describe('Page size, 1 to 100'),
  cursor: safeText().max(512).optional().describe('The nextCursor of the previous page'),
});

export const successBody = z.object({ success: z.literal(true) });

export const orgRole = z.enum(['OWNER', 'ADMIN', 'MEMBER', 'VIEWER']);
export const bindingRole = z.enum(['ADMIN', 'MEMBER', 'VIEWER', 'CUSTOM']);
export const scopeType = z.enum(['ORGANIZATION', 'TEAM', 'PROJECT']);
export const permission = z.string().regex(/^[a-zA-Z][a-zA-Z0-9]*:[a-z]+$/, 'must be category:action, e.g. traces:read');

export type OrgRole = z.infer<typeof orgRole>;
export type BindingRole = z.infer<typeof bindingRole>;
export type ScopeType = z.infer<typeof scopeType>;
