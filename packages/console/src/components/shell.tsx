import { NavLink, Outlet } from 'react-router';
import { useNavigate } from 'react-router';
import { DirectoryProvider } from '../lib/directory';
import { roleLabel } from '../lib/format';
import { useSession, useSessionContext } from '../lib/session';
import { ChartIcon, CheckIcon, FolderIcon, KeyIcon, ListIcon, Logo, SendIcon, ShieldIcon, TeamIcon, UsersIcon } from './icons';
import { MenuButton } from './menu';

function OrganizationSwitcher() {
  const session = useSession();
  const { switchOrganization } = useSessionContext();
  const navigate = useNavigate();
  if (session.organizations.length <= 1) {
    return (
      <div className="org-current">
        <span className="org-label">Organization</span>
        <span className="org-name" title={session.organization.name}>
          {session.organization.name}
        </span>
      </div>
    );
  }
  return (
    <div className="org-switcher">
      <label htmlFor="organization-switcher" className="org-label">
        Organization
      </label>
      <select
        id="organization-switcher"
        className="select"
        value={session.organization.id}
        onChange={async (event) => {
          await switchOrganization(event.target.value);
          navigate('/settings/api-keys');
        }}
      >
        {session.organizations.map((org) => (
          <option key={org.id} value={org.id}>
            {org.name} · {roleLabel(org.role)}
          </option>
        ))}
      </select>
    </div>
  );
}

function NavItem({ to, icon, children }: { to: string; icon: React.ReactNode; children: React.ReactNode }) {
  return (
    <li>
      <NavLink to={to} className={({ isActive }) => `nav-link${isActive ? ' active' : ''}`}>
        {icon}
        <span>{children}</span>
      </NavLink>
    </li>
  );
}

export function Shell() {
  const session = useSession();
  const { logout } = useSessionContext();
  const navigate = useNavigate();
  return (
    <div className="shell">
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <aside className="sidebar">
        <div className="brand">
          <Logo />
          <span>Keyward</span>
        </div>
        <OrganizationSwitcher />
        <nav aria-label="Settings" className="nav">
          <p className="nav-heading" aria-hidden="true">
            Settings
          </p>
          <ul>
            <NavItem to="/settings/api-keys" icon={<KeyIcon />}>
              API Keys
            </NavItem>
            <NavItem to="/settings/policy" icon={<CheckIcon />}>
              Key policy
            </NavItem>
            {session.isAdmin ? (
              <NavItem to="/settings/usage" icon={<ChartIcon />}>
                Usage
              </NavItem>
            ) : null}
            {session.isAdmin ? (
              <NavItem to="/settings/audit-log" icon={<ListIcon />}>
                Audit log
              </NavItem>
            ) : null}
            <NavItem to="/settings/members" icon={<UsersIcon />}>
              Members
            </NavItem>
            <NavItem to="/settings/teams" icon={<TeamIcon />}>
              Teams
            </NavItem>
            <NavItem to="/settings/projects" icon={<FolderIcon />}>
              Projects
            </NavItem>
            {session.isAdmin ? (
              <NavItem to="/settings/signing-keys" icon={<ShieldIcon />}>
                Signing keys
              </NavItem>
            ) : null}
            {session.isAdmin ? (
              <NavItem to="/settings/webhooks" icon={<SendIcon />}>
                Webhooks
              </NavItem>
            ) : null}
          </ul>
        </nav>
        <div className="sidebar-footer">
          <MenuButton
            label="Account"
            namedByContent
            align="start"
            className="user-menu-button"
            items={[
              { label: 'Change password', onSelect: () => navigate('/account/password') },
              {
                label: 'Log out',
                onSelect: () => void logout().then(() => navigate('/login', { replace: true })),
              },
            ]}
          >
            <span className="user">
              <span className="user-name" title={session.user.email}>
                {session.user.name ?? session.user.email}
              </span>
              <span className="user-role">
                {roleLabel(session.role)}
                {session.user.name ? ` · ${session.user.email}` : ''}
              </span>
              <span className="visually-hidden">: account menu</span>
            </span>
            <span className="user-menu-caret" aria-hidden="true">
              ⋯
            </span>
          </MenuButton>
        </div>
      </aside>
      <main id="main" className="main" tabIndex={-1}>
        <DirectoryProvider key={session.organization.id}>
          <div className="content" key={session.organization.id}>
            <Outlet />
          </div>
        </DirectoryProvider>
      </main>
    </div>
  );
}
