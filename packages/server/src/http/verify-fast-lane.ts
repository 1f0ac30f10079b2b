import type { IncomingMessage, ServerResponse } from 'node:http';
import secureJson from 'secure-json-parse';
import type { FastifyBaseLogger } from 'fastify';
import type { VerifierActor } from '@keyward/core';
import { verdictFor, verdictSerializer, verifyBodyValidator, type VerdictOfBody, type VerifyBody } from '../routes/verify.js';
import type { Services } from '../services.js';
import { ApiError } from './api-error.js';
import { toErrorAnswer } from './error-handler.js';
import { clientIpResolver, readBoundedBodyThen } from './raw-request.js';
import { API_HEADERS, fixedHeaders, HYGIENE_HEADERS, JSON_CONTENT_TYPE, writeAnswer } from './response-writer.js';
import { answerJson } from './verdict-json.js';
import type { VerifierAuthenticator } from './verifier-authenticator.js';

const PATH = '/api/keys/verify';
const headers = fixedHeaders({ 'content-type': JSON_CONTENT_TYPE }, API_HEADERS, HYGIENE_HEADERS);

export interface FastLaneOptions {
  readonly services: Services;
  readonly verifiers: VerifierAuthenticator;
  readonly nextRequestId: () => string;
  readonly log: () => FastifyBaseLogger;
}

/**
 * `POST /api/keys/verify` on a listening server, answered before Fastify's routing: the hot path of
 * every customer request of the operator's API, kept to what it needs (one credential read, a
 * bounded body, Ajv, the verifier, fast-json-stringify). A verification answered from memory (a
 * remembered verifier credential and key, the owner and project cached) runs from the body's last
 * byte to the written answer without a promise. It gives the same answers as the Fastify
 * route, through the same functions (`verdictFor`, `VerifierAuthenticator`, `toErrorAnswer`); a
 * request it does not take (another path, a query string) goes to Fastify. Returns whether it took it.
 */
export function createVerifyFastLane(options: FastLaneOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const validate = verifyBodyValidator() as ((data: unknown) => boolean) & { errors?: unknown[] | null };
  const serialize = verdictSerializer();
  const clientIp = clientIpResolver(options.services.config.trustedProxies);
  const { services } = options;

  function fail(res: ServerResponse, requestId: string, err: unknown): void {
    const answer = toErrorAnswer(err);
    if (answer.status >= 500) options.log().error({ err, reqId: requestId }, 'verification failed');
    services.operations.metrics.countVerifyError(answer.status);
    writeAnswer(res, answer.status, headers, requestId, JSON.stringify({ ...answer.body, requestId }), answer.headers);
  }

  function write(res: ServerResponse, requestId: string, { verdict, tokenExpiresAt }: VerdictOfBody): void {
    try {
      // An answer is made per verification; its JSON from the shared pieces of its decision.
      const answer = services.verifier.answer(verdict, tokenExpiresAt);
      writeAnswer(res, 200, headers, requestId, answerJson(answer) ?? serialize(answer));
    } catch (err) {
      fail(res, requestId, err);
    }
  }

  /** The body read, checked and verified: synchronously to the answer when the verdict is in memory. */
  function answer(res: ServerResponse, requestId: string, verifier: VerifierActor, text: string): void {
    let verified: VerdictOfBody | Promise<VerdictOfBody>;
    try {
      let body: unknown;
      try {
        // An empty body is not JSON either (Fastify's parser answers it so).
        if (text.length === 0) throw new SyntaxError('empty body');
        body = secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
      } catch {
        throw new ApiError(400, 'invalid_request', 'The request body is not valid JSON.');
      }
      if (!validate(body)) throw Object.assign(new Error('invalid body'), { code: 'FST_ERR_VALIDATION', validation: validate.errors ?? [], validationContext: 'body' });
      verified = verdictFor(services, verifier, body as VerifyBody);
    } catch (err) {
      fail(res, requestId, err);
      return;
    }
    if (verified instanceof Promise) verified.then((v) => write(res, requestId, v), (err: unknown) => fail(res, requestId, err));
    else write(res, requestId, verified);
  }

  function afterAuthentication(req: IncomingMessage, res: ServerResponse, requestId: string, verifier: VerifierActor): void {
    readBoundedBodyThen(
      req,
      payloadTooLarge,
      (text) => answer(res, requestId, verifier, text),
      (err) => fail(res, requestId, err),
    );
  }

  return (req, res) => {
    if (req.method !== 'POST' || req.url !== PATH) return false;
    const requestId = options.nextRequestId();
    let verifier: VerifierActor | Promise<VerifierActor>;
    try {
      const type = req.headers['content-type'];
      if (type !== undefined && type !== 'application/json') {
        const mime = type.split(';')[0]!.trim().toLowerCase();
        if (mime !== 'application/json' && !mime.endsWith('+json')) {
          throw new ApiError(415, 'unsupported_media_type', 'Send the body as application/json.');
        }
      }
      verifier = options.verifiers.authenticate(req, {}, clientIp(req));
    } catch (err) {
      fail(res, requestId, err);
      return true;
    }
    if (verifier instanceof Promise) {
      verifier.then((v) => afterAuthentication(req, res, requestId, v), (err: unknown) => fail(res, requestId, err));
    } else afterAuthentication(req, res, requestId, verifier);
    return true;
  };
}

function payloadTooLarge(): ApiError {
  return new ApiError(413, 'payload_too_large', 'The request body is too large (at most 64 KiB).');
}
