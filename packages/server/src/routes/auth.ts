import {
  DomainError,
  changePassword,
  completeSetup,
  effectivePermissions,
  isSetupComplete,
  login,
  logout,
  normalizeEmail,
  notFound,
  recordFailedLogin,
  recordFailedPasswordChange,
  resetPassword,
  subjectOf,
  allPermissions,
  type ProjectId,
} from '@keyward/core';
import * as wire from '@keyward/wire';
import { z } from 'zod';
import type { FastifyReply } from 'fastify';
import { ApiError } from '../http/api-error.js';
import { AuditCoalescer } from '../http/audit-coalescer.js';
import { requireActor } from '../http/authenticate.js';
import { SESSION_COOKIE } from '../http/credentials.js';
import { limitedAttempt } from '../http/failure-limit.js';
import { errors, type App } from '../http/typed.js';
import type { Services } from '../services.js';
import { organizationSummaries } from '../views.js';

const tags = ['Authentication'];

export function registerAuthRoutes(app: App, services: Services): void {
  const { deps, config } = services;
  const order = allPermissions(deps.catalogue);
  const failedLogins = new AuditCoalescer();

  function setSessionCookie(reply: FastifyReply, token: string, expiresAt: Date): void {
    reply.setCookie(SESSION_COOKIE, token, {
      httpOnly: true,
      sameSite: 'strict',
      secure: config.secureCookies,
      path: '/',
      expires: expiresAt,
    });
  }

  app.post('/api/auth/login', {
    config: { auth: 'none' },
    schema: {
      tags,
      summary: 'Log a person in; answers a session token and sets the console session cookie',
      body: wire.loginBody,
      response: { 200: wire.loginResponse, ...errors(400, 401, 422, 429) },
    },
    handler: async (request, reply) => {
      try {
        const result = await limitedAttempt(services, request.ip, () => true, () => login(deps, request.body.email, request.body.password));
        setSessionCookie(reply, result.sessionToken, result.session.expiresAt);
        reply.header('cache-control', 'no-store');
        return {
          sessionToken: result.sessionToken,
          expiresAt: result.session.expiresAt.toISOString(),
          user: { id: result.user.id, email: result.user.email, name: result.user.name },
          organizations: organizationSummaries(result.organizations),
        };
      } catch (err) {
        const email = normalizeEmail(request.body.email);
        const verdict = err instanceof DomainError && err.code === 'invalid_credentials' ? failedLogins.admit(email, deps.clock.now().getTime()) : null;
        if (verdict?.audit) {
          // After the answer, not before it: an audit write only for existing accounts would tell them
          // apart from unknown emails by the time the answer takes.
          const failure = { email, ip: request.ip, requestId: request.id, suppressedRepeats: verdict.suppressedRepeats };
          reply.raw.once('close', () => {
            recordFailedLogin(deps, failure).catch((auditErr: unknown) => request.log.error({ err: auditErr }, 'could not record a failed login in the audit log'));
          });
        }
        throw err;
      }
    },
  });

  app.post('/api/auth/logout', {
    config: { auth: 'session' },
    schema: { tags, summary: 'End the session', response: { 200: wire.successBody, ...errors(401) } },
    handler: async (request, reply) => {
      if (request.session) await logout(deps, request.session.session);
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return { success: true as const };
    },
  });

  const failedChanges = new AuditCoalescer();
  app.post('/api/auth/change-password', {
    config: { auth: 'session' },
    schema: {
      tags,
      summary: "Change the signed-in person's password (a session only); their other sessions end, this one stays",
      body: wire.changePasswordBody,
      response: { 204: wire.noContent, ...errors(400, 401, 403, 422, 429) },
    },
    handler: async (request, reply) => {
      const caller = request.session;
      if (!caller) throw new ApiError(401, 'unauthorized', "This needs a person's session: log in with POST /api/auth/login.");
      try {
        await changePassword(deps, caller, request.body, { ip: request.ip, requestId: request.id });
      } catch (err) {
        if (err instanceof DomainError && err.code === 'invalid_credentials') {
          // A wrong current password is a failed authentication: counted per address, audited (coalesced).
          if (config.authFailuresPerMinute > 0) await services.authFailures.hit(request.ip);
          const verdict = failedChanges.admit(caller.user.id, deps.clock.now().getTime());
          if (verdict.audit) {
            const failure = { userId: caller.user.id, ip: request.ip, requestId: request.id, suppressedRepeats: verdict.suppressedRepeats };
            await recordFailedPasswordChange(deps, failure).catch((auditErr: unknown) => request.log.error({ err: auditErr }, 'could not record a failed password change in the audit log'));
          }
        }
        throw err;
      }
      return reply.code(204).send(null);
    },
  });

  app.post('/api/auth/reset-password', {
    config: { auth: 'none' },
    schema: {
      tags,
      summary: 'Set a new password with the one-time token of a reset link (keyward admin reset-password); every session of the person ends',
      body: wire.resetPasswordBody,
      response: { 204: wire.noContent, ...errors(400, 404, 422, 429) },
    },
    handler: async (request, reply) => {
      // A token that does not work is a failed authentication: guessing tokens is limited per address.
      const wrongToken = (err: unknown) => err instanceof DomainError && err.code === 'reset_token_invalid';
      await limitedAttempt(services, request.ip, wrongToken, () => resetPassword(deps, request.body, { ip: request.ip, requestId: request.id }));
      reply.header('cache-control', 'no-store');
      return reply.code(204).send(null);
    },
  });

  app.get('/api/auth/whoami', {
    config: { auth: 'any' },
    schema: {
      tags,
      summary: 'Who the credential is, in which organization, and what it may do',
      headers: z.object({ 'x-project-id': z.string().max(80).optional() }).loose(),
      response: { 200: wire.whoamiResponse, ...errors(400, 401, 404) },
    },
    handler: async (request) => {
      const actor = requireActor(request);
      const header = request.headers['x-project-id'];
      const projectId = (typeof header === 'string' && header) || (actor.type === 'user' ? null : actor.projectId);
      let ctx = {};
      if (projectId) {
        const project = /^proj_[0-9A-Za-z]{1,64}$/.test(projectId) ? await services.verdictCache.project(actor.orgId, projectId as ProjectId) : null;
        if (!project) throw notFound.project();
        ctx = { projectId: project.id, teamId: project.teamId };
      }
      const permissions = effectivePermissions(subjectOf(actor), ctx, order);
      if (actor.type === 'user') {
        const user = request.session!.user;
        return {
          principal: { type: 'user' as const, id: actor.userId },
          organizationId: actor.orgId,
          role: actor.role,
          projectId: projectId ?? null,
          permissions,
          user: { id: user.id, email: user.email, name: user.name },
          organizations: organizationSummaries(await deps.store.orgs.listForUser(user.id)),
        };
      }
      return {
        principal: { type: actor.type, id: actor.keyId },
        organizationId: actor.orgId,
        keyType: actor.key.keyType,
        projectId: projectId ?? null,
        permissions,
      };
    },
  });

  app.get('/api/setup', {
    config: { auth: 'none' },
    schema: { tags: ['Setup'], summary: 'Whether first-run setup is still pending', response: { 200: wire.setupStatusResponse } },
    handler: async () => ({ setupRequired: !(await isSetupComplete(deps)) }),
  });

  app.post('/api/setup', {
    config: { auth: 'none' },
    schema: {
      tags: ['Setup'],
      summary: 'Spend the one-time setup token to create the first organization and its owner',
      body: wire.setupBody,
      response: { 201: wire.setupResponse, ...errors(400, 403, 422, 429) },
    },
    handler: async (request, reply) => {
      const wrongToken = (err: unknown) => (err as { code?: string }).code === 'setup_token_invalid';
      const { created, login: session } = await limitedAttempt(services, request.ip, wrongToken, () =>
        completeSetup(deps, request.body, { ip: request.ip, requestId: request.id }),
      );
      setSessionCookie(reply, session.sessionToken, session.session.expiresAt);
      reply.code(201).header('cache-control', 'no-store');
      return {
        organizationId: created.organization.id,
        userId: created.ownerUserId,
        sessionToken: session.sessionToken,
        expiresAt: session.session.expiresAt.toISOString(),
      };
    },
  });

}

