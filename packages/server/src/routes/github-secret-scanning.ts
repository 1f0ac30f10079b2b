import { reportLeakedKey } from '@keyward/core';
import * as wire from '@keyward/wire';
import type { FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { createGitHubScanningKeys, isValidSignature, type GitHubScanningKeys } from '../adapters/github-scanning-keys.js';
import { ApiError } from '../http/api-error.js';
import { errors, type App } from '../http/typed.js';
import type { Services } from '../services.js';

/** The largest report accepted: GitHub sends matches in batches (R46 caps every other route at 64 KiB). */
export const GITHUB_REPORT_BODY_LIMIT_BYTES = 1024 * 1024;

const PATH = '/api/keys/leaked/github';

/**
 * GitHub's secret-scanning partner endpoint (CONTRACT.md, "Leak reports from GitHub secret
 * scanning"; docs/secret-scanning.md). GitHub posts the tokens it found in public code, signed with
 * ECDSA P-256 over the raw body; a token of a live key revokes it (reason `leaked`, audit
 * `api_key.leaked` by a `leak_report` actor), and each match is labelled as GitHub's feedback API
 * asks. The signature is checked on the bytes as received, before the body is parsed, logged or the
 * store touched: the JSON parser is replaced in this route's scope by one that keeps the raw body.
 * Off (404) unless `KEYWARD_GITHUB_SECRET_SCANNING_KEYS` is set.
 */
export async function registerGitHubSecretScanningRoutes(app: App, services: Services): Promise<void> {
  const { config, deps } = services;
  const keys = config.githubSecretScanningKeys
    ? createGitHubScanningKeys({
        source: config.githubSecretScanningKeys,
        clock: deps.clock,
        onError: (err) => app.log.warn({ err }, 'could not read the GitHub secret-scanning public keys'),
      })
    : null;
  await app.register(async (plain) => {
    const scope = plain.withTypeProvider<ZodTypeProvider>();
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: GITHUB_REPORT_BODY_LIMIT_BYTES }, (_request, body, done) => {
      done(null, body);
    });
    // The app's handler answers every error; this one only says this route's own size limit.
    scope.setErrorHandler((err) => {
      if ((err as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
        throw new ApiError(413, 'payload_too_large', 'The report is too large (at most 1 MiB).');
      }
      throw err;
    });
    scope.post(PATH, {
      config: { auth: 'none' },
      bodyLimit: GITHUB_REPORT_BODY_LIMIT_BYTES,
      // The body is checked by hand after the signature; the schema documents it.
      validatorCompiler: () => (value) => ({ value }),
      schema: {
        tags: ['Verification'],
        summary: "GitHub secret scanning's partner endpoint: revoke the leaked keys GitHub found",
        description:
          'Signed by GitHub (`Github-Public-Key-Identifier`, `Github-Public-Key-Signature`: base64 DER ECDSA P-256 / SHA-256 over the raw body). 404 unless KEYWARD_GITHUB_SECRET_SCANNING_KEYS is set.',
        security: [],
        body: wire.githubLeakReport,
        response: { 200: wire.githubLeakFeedback, ...errors(400, 401, 404, 413, 415, 422, 429, 503) },
      },
      handler: async (request) => {
        if (!keys) throw new ApiError(404, 'not_found', `There is nothing at POST ${PATH}.`);
        await authenticateReport(services, keys, request);
        const report = parseReport(request.body as unknown as Buffer);
        return answerReport(services, report, request);
      },
    });
  });
}

/** 401 unless the body carries a valid signature by one of GitHub's listed keys. */
async function authenticateReport(services: Services, keys: GitHubScanningKeys, request: FastifyRequest): Promise<void> {
  const limited = services.config.authFailuresPerMinute > 0;
  if (limited && (await services.authFailures.check(request.ip)).limited) {
    throw new ApiError(429, 'rate_limited', 'Too many reports with a bad signature from this address; try again later.', {}, { 'retry-after': '60' });
  }
  const refuse = async (message: string): Promise<never> => {
    if (limited) await services.authFailures.hit(request.ip);
    throw new ApiError(401, 'unauthorized', message);
  };
  const identifier = request.headers['github-public-key-identifier'];
  const signature = request.headers['github-public-key-signature'];
  if (typeof identifier !== 'string' || typeof signature !== 'string' || !identifier || !signature) {
    return refuse('Send the report with the Github-Public-Key-Identifier and Github-Public-Key-Signature headers.');
  }
  if (!Buffer.isBuffer(request.body)) return refuse('The report signature is not valid.');
  const found = await keys.find(identifier);
  if (found.kind === 'unavailable') {
    throw new ApiError(503, 'service_unavailable', "GitHub's secret-scanning public keys could not be read; try again later.", {}, { 'retry-after': '60' });
  }
  if (found.kind === 'unknown') return refuse('The report is signed with a key GitHub does not list.');
  if (!isValidSignature(found.key, request.body, signature)) return refuse('The report signature is not valid.');
}

function parseReport(body: Buffer): wire.GitHubLeakReport {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new ApiError(400, 'invalid_request', 'The request body is not valid JSON.');
  }
  const checked = wire.githubLeakReport.safeParse(parsed);
  if (!checked.success) {
    const reasons = checked.error.issues.slice(0, 20).map((issue) => ({ path: pathOf(issue.path), message: issue.message }));
    throw new ApiError(422, 'validation_failed', 'The request body is not valid.', { reasons });
  }
  return checked.data;
}

function pathOf(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part)), '') || 'body';
}

/**
 * Each match in order; a token met twice in one report is looked up once. A token that is not one
 * of this deployment's keys (another vendor's, a mistyped one) is a false positive.
 */
async function answerReport(services: Services, report: wire.GitHubLeakReport, request: FastifyRequest): Promise<wire.GitHubLeakFeedback> {
  const outcomes = new Map<string, Promise<string>>();
  const answer: wire.GitHubLeakFeedback = [];
  for (const match of report) {
    let outcome = outcomes.get(match.token);
    if (!outcome) {
      const { url, source } = match;
      outcome = reportLeakedKey(
        services.deps,
        services.verifier,
        {
          token: match.token,
          reporter: 'github_secret_scanning',
          // Kept in the audit entry only when it is plain text (PostgreSQL cannot store a NUL, say).
          url: url && wire.isSafeText(url) ? url : undefined,
          source: source && wire.isSafeText(source) ? source : undefined,
        },
        { ip: request.ip, requestId: request.id },
      );
      outcomes.set(match.token, outcome);
    }
    const label = (await outcome) === 'unknown' ? 'false_positive' : 'true_positive';
    answer.push({ token_raw: match.token, token_type: match.type, label });
  }
  return answer;
}
