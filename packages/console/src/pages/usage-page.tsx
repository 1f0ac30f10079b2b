import type { OrganizationUsageResponse } from '@keyward/wire';
import { Link } from 'react-router';
import { AdminOnly, PageHeader, usePageTitle } from '../components/ui';
import { UsagePanel } from '../components/usage-panel';
import { formatNumber } from '../lib/format';
import { useSession } from '../lib/session';

export function UsagePage() {
  usePageTitle('Usage');
  const session = useSession();
  return (
    <>
      <PageHeader title="Usage" description="Requests made with your organization’s keys: accepted (valid) and refused (rejected), and the busiest keys." />
      {session.isAdmin ? (
        <UsagePanel<OrganizationUsageResponse> path="/api/usage" title="All keys">
          {(report) => (
            <div>
              <h3 className="subheading">Top keys</h3>
              {report.topKeys.length === 0 ? (
                <p className="muted">No key was used in this range.</p>
              ) : (
                <table className="table table-compact">
                  <caption className="visually-hidden">Keys with the most requests</caption>
                  <thead>
                    <tr>
                      <th scope="col">Key</th>
                      <th scope="col" className="num">
                        Valid
                      </th>
                      <th scope="col" className="num">
                        Rejected
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {report.topKeys.map((top) => (
                      <tr key={top.keyId}>
                        <td>
                          <Link to={`/settings/api-keys/${top.keyId}`}>{top.name ?? top.keyId}</Link>{' '}
                          {top.preview ? <code className="muted">{top.preview}</code> : null}
                        </td>
                        <td className="num">{formatNumber(top.valid)}</td>
                        <td className="num">{formatNumber(top.rejected)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </div>
          )}
        </UsagePanel>
      ) : (
        <AdminOnly role={session.role} />
      )}
    </>
  );
}
