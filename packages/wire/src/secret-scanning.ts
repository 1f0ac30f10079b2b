import { z } from 'zod';

/** The most matches one GitHub secret-scanning report may carry; more is 422. */
export const GITHUB_REPORT_MAX_MATCHES = 1000;

/**
 * One match in a GitHub secret-scanning partner report: the token as found, the secret type it was
 * registered under, where it was found and in what. Fields GitHub may add later are ignored.
 *
 * @example
 * const match: GitHubLeakMatch = { token: 'kw_…', type: 'keyward_api_key', url: 'https://github.com/acme/app/blob/main/.env', source: 'content' };
 */
export const githubLeakMatch = z.object({
  token: z.string().min(1).max(4096).describe('The token as found'),
  type: z.string().max(200).describe('The secret type the token matched, as registered with GitHub'),
  url: z.string().max(4096).optional().describe('Where the token was found (may be empty)'),
  source: z.string().max(100).optional().describe('What it was found in: content, commit, issue_comment, npm, …'),
});
export type GitHubLeakMatch = z.infer<typeof githubLeakMatch>;

/**
 * The body of `POST /api/keys/leaked/github`: GitHub's secret-scanning partner payload, an array of
 * matches, signed over its raw bytes.
 *
 * @example
 * const body: GitHubLeakReport = [{ token: 'kw_…', type: 'keyward_api_key', url: '', source: 'content' }];
 */
export const githubLeakReport = z.array(githubLeakMatch).max(GITHUB_REPORT_MAX_MATCHES).meta({ id: 'GitHubLeakReport' });
export type GitHubLeakReport = z.infer<typeof githubLeakReport>;

/**
 * GitHub's feedback format, one label per match: `true_positive` for a token of one of this
 * deployment's keys (revoked now, or revoked before), `false_positive` for anything else.
 *
 * @example
 * const answer: GitHubLeakFeedback = [{ token_raw: 'kw_…', token_type: 'keyward_api_key', label: 'true_positive' }];
 */
export const githubLeakFeedback = z
  .array(
    z.object({
      token_raw: z.string(),
      token_type: z.string(),
      label: z.enum(['true_positive', 'false_positive']),
    }),
  )
  .meta({ id: 'GitHubLeakFeedback' });
export type GitHubLeakFeedback = z.infer<typeof githubLeakFeedback>;
