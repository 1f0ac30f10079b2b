import { Link } from 'react-router';
import { EmptyState, PageHeader, usePageTitle } from '../components/ui';

export function NotFoundPage() {
  usePageTitle('Not found');
  return (
    <>
      <PageHeader title="Page not found" />
      <EmptyState title="There is nothing at this address." action={<Link to="/settings/api-keys" className="button button-secondary">Go to API Keys</Link>} />
    </>
  );
}
