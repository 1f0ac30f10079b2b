import type { FastifyServerOptions } from 'fastify';

// `q` too: the key list takes a whole pasted token as a search term (issue 12).
const credentialParams = /([?&](?:token|api_key|access_token|client_secret|key|q)(?:\[[^\]]*\])?=)[^&]*/gi;

/** A URL with credential-bearing query parameters (and the key list's search term) blanked, for logs (R10). */
export function redactUrl(url: string): string {
  return url.replace(credentialParams, '$1[REDACTED]');
}

/**
 * The server's pino configuration. Credentials never reach a log line (R44): carrier headers and
 * cookies are redacted, query credentials are blanked in URLs, bodies are never logged, and pino
 * writes JSON, so a CR or LF in a value cannot forge a line.
 */
export function loggerOptions(level: string): FastifyServerOptions['logger'] {
  return {
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers["x-api-key"]',
        'req.headers["x-auth-token"]',
        'req.headers.cookie',
        'res.headers["set-cookie"]',
        '*.token',
        '*.sessionToken',
        '*.client_secret',
        '*.password',
      ],
      censor: '[REDACTED]',
    },
    serializers: {
      req(request: { method: string; url: string; ip?: string; id?: string }) {
        return { method: request.method, url: redactUrl(request.url), ip: request.ip, id: request.id };
      },
    },
  };
}
