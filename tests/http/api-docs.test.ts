import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startServer, type TestServer } from '../support/server.js';

/**
 * CONTRACT.md "A readable API reference": `GET /api/docs` serves an HTML reference of the served
 * OpenAPI document, rendered by a renderer from npm served from the package itself: the page and
 * everything it loads come from this server, so it works offline and under its own strict
 * Content-Security-Policy. (tests/e2e/api-docs.test.ts renders it in a browser.)
 */

/** Every `src` and `href` attribute of an HTML page. */
function referencesOf(html: string): string[] {
  return [...html.matchAll(/\s(?:src|href)\s*=\s*["']([^"']+)["']/gi)].map((m) => m[1]!);
}

/** Every `url(…)` of a style sheet. */
function cssUrlsOf(css: string): string[] {
  return [...css.matchAll(/url\(\s*(["']?)(.*?)\1\s*\)/g)].map((m) => m[2]!);
}

describe('GET /api/docs: the API reference', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => server?.close());

  it('answers an HTML page, without any credential, that loads only files of this server, each of which answers 200 with its type', async () => {
    for (const path of ['/api/docs', '/api/docs/']) {
      const page = await call(server, 'GET', path);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(page.text).toContain('<title>Keyward API reference</title>');
      const references = referencesOf(page.text);
      expect(references.length).toBeGreaterThanOrEqual(4);
      for (const reference of references) {
        const url = new URL(reference, `${server.url}${path}`);
        expect(url.origin, `${path} references ${reference}`).toBe(server.url);
        const loaded = await fetch(url);
        expect(loaded.status, url.pathname).toBe(200);
        const type = loaded.headers.get('content-type') ?? '';
        if (url.pathname.endsWith('.js')) expect(type, url.pathname).toMatch(/javascript/);
        if (url.pathname.endsWith('.css')) {
          expect(type, url.pathname).toMatch(/^text\/css/);
          // Style sheets may pull in more: fonts and images must be inline or this server's too.
          for (const inner of cssUrlsOf(await loaded.text())) {
            if (inner.startsWith('data:')) continue;
            expect(new URL(inner, url).origin, `${url.pathname} references ${inner}`).toBe(server.url);
          }
        } else {
          await loaded.arrayBuffer();
        }
      }
      expect(references.filter((r) => r.endsWith('.js')).map((r) => r.split('/').pop())).toEqual([
        'swagger-ui-bundle.js',
        'swagger-ui-standalone-preset.js',
        'swagger-initializer.js',
      ]);
    }
  });

  it('renders the document this server serves at /api/openapi.json, with no URL bar and no online validator', async () => {
    const [rendered, served] = await Promise.all([call(server, 'GET', '/api/docs/json'), call(server, 'GET', '/api/openapi.json')]);
    expect(rendered.status).toBe(200);
    expect(rendered.body).toEqual(served.body);
    expect(Object.keys(rendered.body.paths)).toEqual(expect.arrayContaining(['/api/auth/change-password', '/api/auth/reset-password', '/api/api-keys']));
    // The docs' own routes are not part of the API it documents.
    expect(Object.keys(rendered.body.paths).filter((p) => p.startsWith('/api/docs'))).toEqual([]);

    const initializer = await call(server, 'GET', '/api/docs/static/swagger-initializer.js');
    expect(initializer.status).toBe(200);
    expect(initializer.text).toContain("url: resolveUrl('./json')");
    expect(initializer.text).toContain('"layout":"BaseLayout"');
    expect(initializer.text).toContain('validatorUrl: null');
  });

  it('sends a Content-Security-Policy that allows nothing from another origin and no eval, on the page and its files', async () => {
    for (const path of ['/api/docs', '/api/docs/static/swagger-ui-bundle.js', '/api/docs/static/swagger-initializer.js']) {
      const answer = await call(server, 'GET', path);
      const csp = answer.headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-eval');
      const origins = [...csp.matchAll(/https?:\/\/[^\s;]+/g)].map((m) => m[0]);
      expect(origins.every((origin) => origin === server.url), csp).toBe(true);
      expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  it('serves nothing outside its own files', async () => {
    // (fetch resolves a literal ../ itself; encoded, it reaches the server as sent.)
    for (const path of ['/api/docs/static/%2e%2e/package.json', '/api/docs/static/%2e%2e%2f%2e%2e%2fpackage.json', '/api/docs/static/..%2f..%2f..%2fpackage.json', '/api/docs/static/nothing-here.js']) {
      const answer = await call(server, 'GET', path);
      expect(answer.status, path).toBe(404);
      expect(answer.text).not.toContain('"dependencies"');
    }
  });
});
