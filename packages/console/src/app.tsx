import { lazy, Suspense, type ReactNode } from 'react';
import { BrowserRouter, Navigate, Route, Routes, useLocation } from 'react-router';
import { Shell } from './components/shell';
import { ToastProvider } from './components/toast';
import { LoadingBlock } from './components/ui';
import { SessionProvider, useSessionContext } from './lib/session';
import { AcceptInvitationPage } from './pages/accept-invitation';
import { ApiKeysPage } from './pages/api-keys/api-keys-page';
import { KeyDetailPage } from './pages/api-keys/key-detail-page';
import { LoginPage } from './pages/login';
import { NotFoundPage } from './pages/not-found';
import { ResetPasswordPage } from './pages/reset-password';
import { SetupPage } from './pages/setup';

// The pages people open less often load on demand, keeping the first page small.
const UsagePage = lazy(() => import('./pages/usage-page').then((m) => ({ default: m.UsagePage })));
const AuditLogPage = lazy(() => import('./pages/audit-log-page').then((m) => ({ default: m.AuditLogPage })));
const MembersPage = lazy(() => import('./pages/members-page').then((m) => ({ default: m.MembersPage })));
const TeamsPage = lazy(() => import('./pages/teams-page').then((m) => ({ default: m.TeamsPage })));
const ProjectsPage = lazy(() => import('./pages/projects-page').then((m) => ({ default: m.ProjectsPage })));
const ProjectDetailPage = lazy(() => import('./pages/project-detail-page').then((m) => ({ default: m.ProjectDetailPage })));
const ChangePasswordPage = lazy(() => import('./pages/change-password-page').then((m) => ({ default: m.ChangePasswordPage })));
const PolicyPage = lazy(() => import('./pages/policy-page').then((m) => ({ default: m.PolicyPage })));
const SigningKeysPage = lazy(() => import('./pages/signing-keys-page').then((m) => ({ default: m.SigningKeysPage })));
const WebhooksPage = lazy(() => import('./pages/webhooks/webhooks-page').then((m) => ({ default: m.WebhooksPage })));
const WebhookDetailPage = lazy(() => import('./pages/webhooks/webhook-detail-page').then((m) => ({ default: m.WebhookDetailPage })));

function RequireSession({ children }: { children: ReactNode }) {
  const { state, refresh } = useSessionContext();
  const location = useLocation();
  if (state.status === 'loading') return <div className="boot" aria-busy="true" />;
  if (state.status === 'error') {
    return (
      <div className="auth-page">
        <div className="auth-card">
          <h1>Keyward is not reachable</h1>
          <p className="muted">{state.message}</p>
          <button type="button" className="button button-primary" onClick={() => void refresh()}>
            Try again
          </button>
        </div>
      </div>
    );
  }
  if (state.status === 'anonymous') {
    const next = `${location.pathname}${location.search}`;
    return <Navigate to={next && next !== '/' ? `/login?next=${encodeURIComponent(next)}` : '/login'} replace />;
  }
  return <>{children}</>;
}

function Page({ children }: { children: ReactNode }) {
  return <Suspense fallback={<LoadingBlock height={320} />}>{children}</Suspense>;
}

export function App() {
  return (
    <BrowserRouter>
      <ToastProvider>
        <SessionProvider>
          <Routes>
            <Route path="/login" element={<LoginPage />} />
            <Route path="/setup" element={<SetupPage />} />
            <Route path="/accept-invitation" element={<AcceptInvitationPage />} />
            <Route path="/reset-password" element={<ResetPasswordPage />} />
            <Route
              element={
                <RequireSession>
                  <Shell />
                </RequireSession>
              }
            >
              <Route index element={<Navigate to="/settings/api-keys" replace />} />
              <Route path="settings" element={<Navigate to="/settings/api-keys" replace />} />
              <Route path="settings/api-keys" element={<ApiKeysPage />} />
              <Route path="settings/api-keys/:id" element={<KeyDetailPage />} />
              <Route path="settings/usage" element={<Page><UsagePage /></Page>} />
              <Route path="settings/audit-log" element={<Page><AuditLogPage /></Page>} />
              <Route path="settings/members" element={<Page><MembersPage /></Page>} />
              <Route path="settings/teams" element={<Page><TeamsPage /></Page>} />
              <Route path="settings/projects" element={<Page><ProjectsPage /></Page>} />
              <Route path="settings/projects/:id" element={<Page><ProjectDetailPage /></Page>} />
              <Route path="settings/signing-keys" element={<Page><SigningKeysPage /></Page>} />
              <Route path="settings/policy" element={<Page><PolicyPage /></Page>} />
              <Route path="settings/webhooks" element={<Page><WebhooksPage /></Page>} />
              <Route path="settings/webhooks/:id" element={<Page><WebhookDetailPage /></Page>} />
              <Route path="account/password" element={<Page><ChangePasswordPage /></Page>} />
              <Route path="*" element={<NotFoundPage />} />
            </Route>
          </Routes>
        </SessionProvider>
      </ToastProvider>
    </BrowserRouter>
  );
}
