import type { TestServer } from './server.js';

/**
 * Every route the app registers, as `METHOD /path/:param`, read from Fastify's own route tree
 * (`printRoutes({ commonPrefix: false })`: one line per path segment, indented four characters per
 * level, its methods in parentheses). HEAD routes Fastify adds beside GET are left out. Each route
 * found is checked with `hasRoute`, so a change in the tree's format fails here instead of silently
 * finding nothing.
 */
export function registeredRoutes(server: Pick<TestServer, 'composed'>): string[] {
  const { app } = server.composed;
  const tree = app.printRoutes({ commonPrefix: false });
  const stack: string[] = [];
  const routes: string[] = [];
  for (const line of tree.split('\n')) {
    const match = /^([│ ]*)[├└]── (\S+)(?: \(([A-Z, ]+)\))?$/.exec(line.trimEnd());
    if (!match) continue;
    const depth = [...match[1]!].length / 4;
    stack.length = depth;
    const path = (stack[depth - 1] ?? '') + match[2]!;
    stack.push(path);
    const methods = (match[3] ?? '').split(',').map((m) => m.trim()).filter(Boolean);
    for (const method of methods) {
      if (method === 'HEAD' && methods.includes('GET')) continue;
      const url = app.hasRoute({ method: method as 'GET', url: path }) ? path : wildcardBeside(app, method, path, tree);
      if (!url) throw new Error(`route tree misread: ${method} ${path} is not a route`);
      routes.push(`${method} ${url}`);
    }
  }
  if (routes.length === 0) throw new Error(`no routes read from:\n${tree}`);
  return routes.sort();
}

/**
 * find-my-way prints a wildcard without the prefix of a parent that has no route of its own
 * (`/api/docs/static/*` beside `/api/docs/static/index.html` shows as `*` under `/api/docs/`): the
 * real route is the wildcard after a folder of a sibling's path.
 */
function wildcardBeside(app: TestServer['composed']['app'], method: string, path: string, tree: string): string | null {
  if (!path.endsWith('/*')) return null;
  const parent = path.slice(0, -1);
  const folders = new Set<string>();
  for (const match of tree.matchAll(/── (\S+)/g)) {
    const segment = match[1]!;
    for (let end = segment.indexOf('/'); end !== -1; end = segment.indexOf('/', end + 1)) folders.add(segment.slice(0, end + 1));
  }
  for (const folder of folders) {
    const candidate = `${parent}${folder}*`;
    if (app.hasRoute({ method: method as 'GET', url: candidate })) return candidate;
  }
  return null;
}
