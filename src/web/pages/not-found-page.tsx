import type { JSX } from 'preact';
import { PageHeader } from '../components/app-shell.js';
import { Link } from '../lib/router.js';

export function NotFoundPage({ reason }: { reason?: string }): JSX.Element {
  return (
    <section>
      <PageHeader title="Page not found" />
      <p>{reason ?? 'There is no page at this address.'}</p>
      <p>
        <Link to="/">Go to the start page</Link>
      </p>
    </section>
  );
}
