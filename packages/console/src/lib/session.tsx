import type { OrganizationSummary, OrgRole, PublicUser, WhoamiResponse } from '@keyward/wire';
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, ApiError, currentOrganizationId, onUnauthorized, setOrganizationId } from './api';

export interface Session {
  readonly user: PublicUser;
  readonly role: OrgRole;
  readonly organization: OrganizationSummary;
  readonly organizations: readonly OrganizationSummary[];
  /** The person's permissions at the organization (whoami), used to show what they cannot grant. */
  readonly permissions: ReadonlySet<string>;
  /** OWNER or ADMIN: sees and manages every key, members, the audit log, signing keys. */
  readonly isAdmin: boolean;
}

type State =
  | { status: 'loading' }
  | { status: 'anonymous' }
  | { status: 'ready'; session: Session }
  | { status: 'error'; message: string };

interface SessionContextValue {
  readonly state: State;
  /** Reads whoami again (after login, setup, bootstrap, a role change). */
  refresh(): Promise<Session | null>;
  switchOrganization(id: string): Promise<void>;
  logout(): Promise<void>;
}

const SessionContext = createContext<SessionContextValue | null>(null);

function toSession(whoami: WhoamiResponse): Session | null {
  if (whoami.principal.type !== 'user' || !whoami.user || !whoami.role) return null;
  const organizations = whoami.organizations ?? [];
  const organization = organizations.find((o) => o.id === whoami.organizationId) ?? {
    id: whoami.organizationId,
    name: whoami.organizationId,
    role: whoami.role,
    bootstrapped: true,
  };
  const permissions = new Set(whoami.permissions);
  return {
    user: whoami.user,
    role: whoami.role,
    organization,
    organizations,
    permissions,
    isAdmin: whoami.role === 'OWNER' || whoami.role === 'ADMIN' || permissions.has('organization:manage'),
  };
}

async function loadSession(): Promise<Session | null> {
  try {
    const whoami = await api.get<WhoamiResponse>('/api/auth/whoami', { quiet401: true });
    const session = toSession(whoami);
    if (session) setOrganizationId(session.organization.id);
    return session;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return null;
    // The remembered organization is gone (removed from it): fall back to the first one.
    if (err instanceof ApiError && err.code === 'organization_not_found' && currentOrganizationId()) {
      setOrganizationId(null);
      return loadSession();
    }
    throw err;
  }
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<State>({ status: 'loading' });

  const refresh = useCallback(async () => {
    try {
      const session = await loadSession();
      setState(session ? { status: 'ready', session } : { status: 'anonymous' });
      return session;
    } catch (err) {
      setState({ status: 'error', message: err instanceof Error ? err.message : 'The server could not be reached.' });
      return null;
    }
  }, []);

  useEffect(() => {
    void refresh();
    return onUnauthorized(() => setState({ status: 'anonymous' }));
  }, [refresh]);

  const switchOrganization = useCallback(
    async (id: string) => {
      setOrganizationId(id);
      await refresh();
    },
    [refresh],
  );

  const logout = useCallback(async () => {
    try {
      await api.post('/api/auth/logout', {}, { quiet401: true });
    } catch {
      // the session may already be gone; the cookie is cleared either way on the next 401
    }
    setState({ status: 'anonymous' });
  }, []);

  const value = useMemo(() => ({ state, refresh, switchOrganization, logout }), [state, refresh, switchOrganization, logout]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSessionContext(): SessionContextValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSessionContext outside SessionProvider');
  return value;
}

/** The signed-in person's session; only under RequireSession. */
export function useSession(): Session {
  const { state } = useSessionContext();
  if (state.status !== 'ready') throw new Error('useSession without a session');
  return state.session;
}
