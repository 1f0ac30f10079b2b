import type { ApiFailure } from './api-failure.js';

/** What to do next after an error answer of the API, by its code. */
export function hintFor(failure: ApiFailure): string | undefined {
  const { baseUrl, credentialSource } = failure.request;
  switch (failure.code) {
    case 'unauthorized':
    case 'invalid_credentials':
      if (failure.request.url === '/api/auth/login') return 'Check the email and password, then run keyward auth login again.';
      if (credentialSource === 'KEYWARD_TOKEN') return `KEYWARD_TOKEN was refused by ${baseUrl}: check that it is a live session token or API key of this server, or unset it to use your login.`;
      if (credentialSource === 'KEYWARD_API_KEY') return 'KEYWARD_API_KEY was refused: check that the key is active, not expired or revoked, and belongs to this server.';
      return `Your session has expired or was ended. Run: keyward auth login --url ${baseUrl}`;
    case 'credential_class_mismatch':
      return 'A legacy project key cannot manage the organization: use your login, or a personal or service key.';
    case 'insufficient_permissions':
      return 'Your role in this organization does not allow this; ask an organization owner or admin, or pick another organization with --org.';
    case 'api_key_scope_violation':
      return 'A personal key can never exceed your own rights: ask for less (see keyward auth whoami), or ask an admin.';
    case 'api_key_not_owned':
      return 'You may revoke only your own keys; ask an organization owner or admin to revoke this one.';
    case 'policy_violation':
      return "The organization's key policy refuses this (see keyward org policy get): change the values named above, e.g. an earlier --expires, or --allow-ip for a service key, and try again.";
    case 'api_key_not_found':
      return 'Check the id: keyward api-key list --status all';
    case 'api_key_already_revoked':
      return 'Revocation is permanent. Create a new key instead: keyward api-key create --name NAME';
    case 'organization_not_found':
      return 'See the organizations you belong to: keyward orgs list';
    case 'organization_not_bootstrapped':
      return 'An owner or admin must bootstrap the organization once: keyward orgs bootstrap';
    case 'member_not_found':
      return 'See the members: keyward members list';
    case 'team_not_found':
      return 'See the teams: keyward teams list';
    case 'project_not_found':
      return 'See the projects: keyward projects list --archived';
    case 'project_archived':
      return 'Restore the project first: keyward projects restore ID';
    case 'role_binding_not_found':
      return 'See the role bindings: keyward bindings list';
    case 'last_owner':
      return 'Make someone else an owner first: keyward members set-role USER --role OWNER';
    case 'validation_failed':
      if (failure.request.url.endsWith('/credits')) return 'See the credits left with keyward api-key get ID; a key with unlimited use gets credits first with keyward api-key edit ID --credits N.';
      return 'Fix the values named above and try again (add --help for the flags).';
    case 'rate_limited':
      return `Wait${failure.retryAfterSeconds ? ` ${failure.retryAfterSeconds} seconds` : ''} and try again.`;
    case 'ip_not_allowed':
      return 'This key may not be used from this address: see its allowed IP ranges.';
    case 'service_unavailable':
      return 'The server cannot reach its database right now; try again shortly.';
    default:
      return failure.status >= 500 ? 'Try again; if it keeps failing, give the request id to the server operator.' : undefined;
  }
}
