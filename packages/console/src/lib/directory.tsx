import type { CatalogueResponse, Member, Project, Team } from '@keyward/wire';
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, query } from './api';

/**
 * The organization's names (teams, projects, members) and the permission catalogue, loaded once per
 * organization: tables show names rather than ids, and forms offer choices. Small organizations are
 * the rule; at most ten pages of 100 of each are read.
 */
export interface Directory {
  readonly ready: boolean;
  readonly teams: readonly Team[];
  readonly projects: readonly Project[];
  readonly members: readonly Member[];
  readonly catalogue: CatalogueResponse | null;
  teamName(id: string): string;
  projectName(id: string): string;
  memberLabel(id: string | null): string;
  reload(): void;
}

async function allPages<T>(path: string, extra: Record<string, string> = {}): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 10; page++) {
    const answer: { data: T[]; nextCursor: string | null } = await api.get(`${path}${query({ limit: 100, cursor, ...extra })}`);
    out.push(...answer.data);
    cursor = answer.nextCursor;
    if (!cursor) break;
  }
  return out;
}

const DirectoryContext = createContext<Directory | null>(null);

export function DirectoryProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<{ ready: boolean; teams: Team[]; projects: Project[]; members: Member[]; catalogue: CatalogueResponse | null }>({
    ready: false,
    teams: [],
    projects: [],
    members: [],
    catalogue: null,
  });
  const [version, setVersion] = useState(0);
  const reload = useCallback(() => setVersion((v) => v + 1), []);

  useEffect(() => {
    let cancelled = false;
    const settle = <T,>(promise: Promise<T>, fallback: T) => promise.catch(() => fallback);
    void Promise.all([
      settle(allPages<Team>('/api/teams'), []),
      settle(allPages<Project>('/api/projects', { includeArchived: 'true' }), []),
      settle(allPages<Member>('/api/members'), []),
      settle(api.get<CatalogueResponse>('/api/catalogue'), null),
    ]).then(([teams, projects, members, catalogue]) => {
      if (!cancelled) setState({ ready: true, teams, projects, members, catalogue });
    });
    return () => {
      cancelled = true;
    };
  }, [version]);

  const value = useMemo<Directory>(() => {
    const teams = new Map(state.teams.map((t) => [t.id as string, t.name]));
    const projects = new Map(state.projects.map((p) => [p.id as string, p.name]));
    const members = new Map(state.members.map((m) => [m.userId as string, m.email]));
    return {
      ...state,
      teamName: (id) => teams.get(id) ?? id,
      projectName: (id) => projects.get(id) ?? id,
      memberLabel: (id) => (id ? (members.get(id) ?? id) : '—'),
      reload,
    };
  }, [state, reload]);

  return <DirectoryContext.Provider value={value}>{children}</DirectoryContext.Provider>;
}

export function useDirectory(): Directory {
  const value = useContext(DirectoryContext);
  if (!value) throw new Error('useDirectory outside DirectoryProvider');
  return value;
}
