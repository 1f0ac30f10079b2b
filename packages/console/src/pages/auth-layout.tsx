import type { ReactNode } from 'react';
import { Logo } from '../components/icons';

export function AuthLayout({ title, subtitle, children, footer }: { title: string; subtitle?: ReactNode; children: ReactNode; footer?: ReactNode }) {
  return (
    <div className="auth-page">
      <main className="auth-card">
        <div className="auth-brand">
          <Logo />
          <span>Keyward</span>
        </div>
        <h1>{title}</h1>
        {subtitle ? <p className="auth-subtitle">{subtitle}</p> : null}
        {children}
        {footer ? <div className="auth-footer">{footer}</div> : null}
      </main>
    </div>
  );
}

const fragmentTokens = new Map<string, string | null>();

/**
 * Reads `#token=…` and removes it from the address bar, so it does not linger in history. Remembered
 * per path, so reading it twice (React's strict mode) gives the same answer.
 */
export function readFragmentToken(): string | null {
  const path = window.location.pathname;
  const match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  if (!match) return fragmentTokens.get(path) ?? null;
  window.history.replaceState(window.history.state, '', path + window.location.search);
  let token: string | null = null;
  try {
    token = decodeURIComponent(match[1]!);
  } catch {
    token = null;
  }
  fragmentTokens.set(path, token);
  return token;
}

/**
 * Reads a link's `?token=…` (or `#token=…`) and removes it from the address bar, so that the one-time
 * credential does not stay in the history or in a shared screenshot of the address. Remembered per
 * path, like `readFragmentToken`.
 */
export function readLinkToken(): string | null {
  const path = window.location.pathname;
  const search = new URLSearchParams(window.location.search);
  const fromQuery = search.get('token');
  if (fromQuery === null) return readFragmentToken();
  search.delete('token');
  const rest = search.toString();
  window.history.replaceState(window.history.state, '', `${path}${rest ? `?${rest}` : ''}${window.location.hash}`);
  fragmentTokens.set(path, fromQuery || null);
  return fromQuery || null;
}

/** Only same-site paths: never send a person to another origin after login. */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/settings/api-keys';
  return next;
}
