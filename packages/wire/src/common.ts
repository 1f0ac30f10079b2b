import { z } from 'zod';

/** An RFC 3339 instant in UTC, as every time in the API is written. */
export const instant = z.iso.datetime({ offset: true }).describe('RFC 3339 timestamp');
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
  cursor: z.string().max(512).optional().describe('The nextCursor of the previous page'),
});

export const successBody = z.object({ success: z.literal(true) });

export const orgRole = z.enum(['OWNER', 'ADMIN', 'MEMBER', 'VIEWER']);
export const bindingRole = z.enum(['ADMIN', 'MEMBER', 'VIEWER', 'CUSTOM']);
export const scopeType = z.enum(['ORGANIZATION', 'TEAM', 'PROJECT']);
export const permission = z.string().regex(/^[a-zA-Z][a-zA-Z0-9]*:[a-z]+$/, 'must be category:action, e.g. traces:read');

export type OrgRole = z.infer<typeof orgRole>;
export type BindingRole = z.infer<typeof bindingRole>;
export type ScopeType = z.infer<typeof scopeType>;
