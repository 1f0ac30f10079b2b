import {
  acceptInvitation,
  allPermissions,
  assertCanManageOrganization,
  bootstrapOrganization,
  changeMemberRole,
  createProject,
  createRoleBinding,
  createTeam,
  deleteRoleBinding,
  DomainError,
  getMember,
  getPolicy,
  getProject,
  getTeam,
  inviteMember,
  listAuditLog,
  listMembers,
  listProjects,
  listRoleBindings,
  listTeams,
  notFound,
  organizationUsage,
  removeMember,
  renameTeam,
  updatePolicy,
  updateProject,
  type ProjectId,
  type RoleBindingId,
  type TeamId,
  type UserId,
} from '@keyward/core';
import * as wire from '@keyward/wire';
import { requireActor } from '../http/authenticate.js';
import { limitedAttempt } from '../http/failure-limit.js';
import { errors, pageOf, type App } from '../http/typed.js';
import type { Services } from '../services.js';
import { auditEntryView, memberView, organizationView, projectView, roleBindingView, teamView } from '../views.js';

export function registerOrganizationRoutes(app: App, services: Services): void {
  const { deps, config } = services;
  const management = { auth: 'management' as const };

  app.get('/api/organization', {
    config: { auth: 'any' },
    schema: { tags: ['Organization'], summary: "The caller's organization", response: { 200: wire.organizationResponse, ...errors(401) } },
    handler: async (request) => {
      const org = await deps.store.orgs.findById(requireActor(request).orgId);
      if (!org) throw notFound.organization();
      return { organization: organizationView(org) };
    },
  });

  app.post('/api/organization/bootstrap', {
    config: management,
    schema: {
      tags: ['Organization'],
      summary: "Provision the organization's signing keys (once; idempotent)",
      response: { 200: wire.bootstrapResponse, ...errors(401, 403) },
    },
    handler: async (request) => {
      const actor = requireActor(request);
      assertCanManageOrganization(deps.catalogue, actor);
      const { bootstrappedAt } = await bootstrapOrganization(deps, actor);
      return { bootstrapped: true as const, bootstrappedAt: bootstrappedAt.toISOString() };
    },
  });

  app.get('/api/organization/policy', {
    config: { auth: 'any' },
    schema: {
      tags: ['Organization'],
      summary: "The organization's key policy: lifetimes, required expiry and allowlists, personal keys",
      response: { 200: wire.organizationPolicyResponse, ...errors(401) },
    },
    handler: async (request) => ({ policy: await getPolicy(deps, requireActor(request)) }),
  });

  app.put('/api/organization/policy', {
    config: management,
    schema: {
      tags: ['Organization'],
      summary: 'Replace the key policy (OWNER only; audited); existing keys are not changed',
      body: wire.organizationPolicyBody,
      response: { 200: wire.organizationPolicyResponse, ...errors(400, 401, 403, 422) },
    },
    handler: async (request) => ({ policy: await updatePolicy(deps, requireActor(request), request.body) }),
  });

  app.get('/api/catalogue', {
    config: { auth: 'none' },
    schema: { tags: ['Organization'], summary: 'The permission catalogue and key format of this deployment', response: { 200: wire.catalogueResponse } },
    handler: async () => ({
      categories: deps.catalogue.categories.map((c) => ({
        name: c.name,
        label: c.label,
        actions: [...c.actions],
        memberAccess: c.memberAccess,
        ...(c.descriptions ? { descriptions: c.descriptions as Record<string, string> } : {}),
      })),
      permissions: allPermissions(deps.catalogue),
      keyPrefix: deps.keyFormat.prefix,
      keyPattern: deps.keyFormat.pattern.source,
    }),
  });

  // Members and invitations
  const members = ['Members'];
  app.get('/api/members', {
    config: management,
    schema: { tags: members, summary: 'Members and pending invitations, oldest first', querystring: wire.pageQuery, response: { 200: wire.memberList, ...errors(401, 403, 422) } },
    handler: async (request) => {
      const result = await listMembers(deps, requireActor(request), pageOf(request.query));
      return { data: result.items.map(memberView), nextCursor: result.nextCursor };
    },
  });
  app.get('/api/members/:userId', {
    config: management,
    schema: { tags: members, summary: 'One member', params: wire.userIdParams, response: { 200: wire.memberResponse, ...errors(401, 403, 404) } },
    handler: async (request) => ({ member: memberView(await getMember(deps, requireActor(request), request.params.userId as UserId)) }),
  });
  app.post('/api/members', {
    config: management,
    schema: {
      tags: members,
      summary: 'Invite a person; the invitation token is shown once',
      body: wire.inviteMemberBody,
      response: { 201: wire.inviteMemberResponse, ...errors(401, 403, 409, 422) },
    },
    handler: async (request, reply) => {
      const { member, invitation, token } = await inviteMember(deps, requireActor(request), request.body);
      reply.code(201).header('cache-control', 'no-store');
      return {
        member: memberView(member),
        invitation: { token, url: `${config.publicUrl}/accept-invitation#token=${token}`, expiresAt: invitation.expiresAt.toISOString() },
      };
    },
  });
  app.patch('/api/members/:userId', {
    config: management,
    schema: { tags: members, summary: "Change a member's role", params: wire.userIdParams, body: wire.updateMemberBody, response: { 200: wire.memberResponse, ...errors(401, 403, 404, 409, 422) } },
    handler: async (request) => ({
      member: memberView(await changeMemberRole(deps, requireActor(request), request.params.userId as UserId, request.body.role)),
    }),
  });
  app.delete('/api/members/:userId', {
    config: management,
    schema: { tags: members, summary: 'Remove a member; their personal keys are disabled', params: wire.userIdParams, response: { 200: wire.successBody, ...errors(401, 403, 404, 409) } },
    handler: async (request) => {
      await removeMember(deps, requireActor(request), request.params.userId as UserId);
      return { success: true as const };
    },
  });
  // The token and, for an existing account, its password are credentials: a wrong one counts toward
  // the same per-address failure limit as a failed login, and an address over it gets 429 first.
  const failedAccepts = new Set(['invitation_not_found', 'invalid_credentials']);
  app.post('/api/invitations/accept', {
    config: { auth: 'none' },
    schema: {
      tags: members,
      summary: 'Accept an invitation',
      body: wire.acceptInvitationBody,
      response: { 200: wire.acceptInvitationResponse, ...errors(401, 404, 422, 429) },
    },
    handler: async (request) => {
      const failed = (err: unknown) => err instanceof DomainError && failedAccepts.has(err.code);
      const { user, organizationId } = await limitedAttempt(services, request.ip, failed, () =>
        acceptInvitation(deps, request.body, { ip: request.ip, requestId: request.id }),
      );
      return { user: { id: user.id, email: user.email }, organizationId };
    },
  });

  // Teams
  const teams = ['Teams'];
  app.get('/api/teams', {
    config: management,
    schema: { tags: teams, summary: 'Teams, oldest first', querystring: wire.pageQuery, response: { 200: wire.teamList, ...errors(401, 403, 422) } },
    handler: async (request) => {
      const result = await listTeams(deps, requireActor(request), pageOf(request.query));
      return { data: result.items.map(teamView), nextCursor: result.nextCursor };
    },
  });
  app.post('/api/teams', {
    config: management,
    schema: { tags: teams, summary: 'Create a team', body: wire.createTeamBody, response: { 201: wire.teamResponse, ...errors(401, 403, 422) } },
    handler: async (request, reply) => {
      reply.code(201);
      return { team: teamView(await createTeam(deps, requireActor(request), request.body)) };
    },
  });
  app.get('/api/teams/:id', {
    config: management,
    schema: { tags: teams, summary: 'One team', params: wire.idParams, response: { 200: wire.teamResponse, ...errors(401, 403, 404) } },
    handler: async (request) => ({ team: teamView(await getTeam(deps, requireActor(request), request.params.id as TeamId)) }),
  });
  app.patch('/api/teams/:id', {
    config: management,
    schema: { tags: teams, summary: 'Rename a team', params: wire.idParams, body: wire.updateTeamBody, response: { 200: wire.teamResponse, ...errors(401, 403, 404, 422) } },
    handler: async (request) => ({ team: teamView(await renameTeam(deps, requireActor(request), request.params.id as TeamId, request.body)) }),
  });

  // Projects
  const projects = ['Projects'];
  app.get('/api/projects', {
    config: management,
    schema: { tags: projects, summary: 'Projects, oldest first', querystring: wire.listProjectsQuery, response: { 200: wire.projectList, ...errors(401, 403, 422) } },
    handler: async (request) => {
      const { includeArchived, teamId, ...page } = request.query;
      const result = await listProjects(deps, requireActor(request), { includeArchived, teamId: teamId as TeamId | undefined }, pageOf(page));
      return { data: result.items.map(projectView), nextCursor: result.nextCursor };
    },
  });
  app.post('/api/projects', {
    config: management,
    schema: { tags: projects, summary: 'Create a project', body: wire.createProjectBody, response: { 201: wire.projectResponse, ...errors(401, 403, 404, 422) } },
    handler: async (request, reply) => {
      reply.code(201);
      return { project: projectView(await createProject(deps, requireActor(request), request.body)) };
    },
  });
  app.get('/api/projects/:id', {
    config: management,
    schema: { tags: projects, summary: 'One project', params: wire.idParams, response: { 200: wire.projectResponse, ...errors(401, 403, 404) } },
    handler: async (request) => ({ project: projectView(await getProject(deps, requireActor(request), request.params.id as ProjectId)) }),
  });
  app.patch('/api/projects/:id', {
    config: management,
    schema: {
      tags: projects,
      summary: 'Rename, move, archive or restore a project',
      params: wire.idParams,
      body: wire.updateProjectBody,
      response: { 200: wire.projectResponse, ...errors(401, 403, 404, 422) },
    },
    handler: async (request) => ({ project: projectView(await updateProject(deps, requireActor(request), request.params.id as ProjectId, request.body)) }),
  });

  // Role bindings
  const bindings = ['Role bindings'];
  app.get('/api/role-bindings', {
    config: management,
    schema: { tags: bindings, summary: "Members' team and project role bindings", querystring: wire.listRoleBindingsQuery, response: { 200: wire.roleBindingList, ...errors(401, 403, 422) } },
    handler: async (request) => {
      const { userId, ...page } = request.query;
      const result = await listRoleBindings(deps, requireActor(request), { userId: userId as UserId | undefined }, pageOf(page));
      return { data: result.items.map(roleBindingView), nextCursor: result.nextCursor };
    },
  });
  app.post('/api/role-bindings', {
    config: management,
    schema: { tags: bindings, summary: 'Give a member a role on a team or project', body: wire.createRoleBindingBody, response: { 201: wire.roleBindingResponse, ...errors(401, 403, 404, 422) } },
    handler: async (request, reply) => {
      reply.code(201);
      return { roleBinding: roleBindingView(await createRoleBinding(deps, requireActor(request), request.body)) };
    },
  });
  app.delete('/api/role-bindings/:id', {
    config: management,
    schema: { tags: bindings, summary: 'Remove a role binding', params: wire.idParams, response: { 200: wire.successBody, ...errors(401, 403, 404) } },
    handler: async (request) => {
      await deleteRoleBinding(deps, requireActor(request), request.params.id as RoleBindingId);
      return { success: true as const };
    },
  });

  // Audit log and usage
  app.get('/api/audit-log', {
    config: management,
    schema: { tags: ['Audit log'], summary: 'The audit log, newest first', querystring: wire.listAuditQuery, response: { 200: wire.auditList, ...errors(401, 403, 422) } },
    handler: async (request) => {
      const { actorId, action, targetId, ...page } = request.query;
      const result = await listAuditLog(deps, requireActor(request), { actorId, action, targetId }, pageOf(page));
      return { data: result.items.map(auditEntryView), nextCursor: result.nextCursor };
    },
  });
  app.get('/api/usage', {
    config: management,
    schema: {
      tags: ['Usage'],
      summary: 'Verifications across the organization over time, with the busiest keys',
      querystring: wire.usageQuery,
      response: { 200: wire.organizationUsageResponse, ...errors(401, 403, 422) },
    },
    handler: async (request) => {
      const { from, to, interval } = request.query;
      await services.usage.flush();
      const report = await organizationUsage(deps, requireActor(request), {
        from: from ? new Date(from) : undefined,
        to: to ? new Date(to) : undefined,
        interval,
      });
      return {
        from: report.from.toISOString(),
        to: report.to.toISOString(),
        interval: report.interval,
        buckets: report.buckets.map((b) => ({ ...b, start: b.start.toISOString() })),
        totals: report.totals,
        topKeys: report.topKeys.map((t) => ({ keyId: t.keyId, name: t.key?.name ?? null, preview: t.key?.preview ?? null, valid: t.valid, rejected: t.rejected })),
      };
    },
  });
}
