import fastifySwaggerUi from '@fastify/swagger-ui';
import type { App } from '../http/typed.js';
import type { Services } from '../services.js';

export const API_DOCS_PREFIX = '/api/docs';

/**
 * The page's Content-Security-Policy: everything from this server, nothing from anywhere else.
 * Swagger UI sets inline `style` attributes and draws icons from `data:` URIs; "Try it out" calls
 * the API at the document's server URL (the public URL), which may be another origin than the one
 * the page was opened on behind a proxy.
 */
export function apiDocsCsp(publicUrl: string): string {
  const apiOrigin = new URL(publicUrl).origin;
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    `connect-src 'self' ${apiOrigin}`,
    "font-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

/**
 * `GET /api/docs`: a readable reference of the served OpenAPI document, rendered by Swagger UI
 * (`@fastify/swagger-ui`, which serves the Swagger UI bundle from its own package: no CDN, works
 * offline). Its routes take no credential and are left out of the OpenAPI document. The base layout
 * has no URL bar, so the page only ever shows this server's document; the online validator badge is
 * off, so the page loads nothing from elsewhere.
 */
export async function registerApiDocsRoutes(app: App, services: Services): Promise<void> {
  await app.register(fastifySwaggerUi, {
    routePrefix: API_DOCS_PREFIX,
    staticCSP: apiDocsCsp(services.config.publicUrl),
    validatorUrl: false,
    theme: { title: 'Keyward API reference' },
    uiConfig: {
      layout: 'BaseLayout',
      deepLinking: true,
      docExpansion: 'list',
      defaultModelsExpandDepth: 0,
      displayRequestDuration: true,
    },
  });
}
