import type { JSX } from 'preact';
import { listProviders } from '../../api/cloud-providers.js';
import { Loading, PageHeader } from '../../components/app-shell.js';
import { Badges } from '../../components/badge.js';
import { ErrorNotice } from '../../components/notice.js';
import { providerBadges } from '../../lib/provider-status.js';
import { Link } from '../../lib/router.js';
import { useResource } from '../../lib/use-resource.js';

export function ProviderListPage(): JSX.Element {
  const providers = useResource(listProviders, 'providers');
  const items = providers.data;
  return (
    <section>
      <PageHeader
        title="Cloud Providers"
        actions={
          <Link to="/cloud-providers/new" class="button button-primary">
            New Cloud Provider
          </Link>
        }
      >
        <p class="lead">
          Each provider is an app registration in Microsoft Entra ID through which Postern signs in to Microsoft 365
          mailboxes.
        </p>
      </PageHeader>
      {providers.error === undefined ? null : <ErrorNotice error={providers.error} />}
      {items === undefined ? (
        providers.error === undefined ? (
          <Loading what="Cloud Providers" />
        ) : null
      ) : items.length === 0 ? (
        <div class="empty card">
          <h2>No Cloud Provider yet</h2>
          <p>
            Register an app in the Azure portal, then create a provider with its Application (client) ID, Directory
            (tenant) ID and client secret. The form shows each step.
          </p>
          <Link to="/cloud-providers/new" class="button button-primary">
            Create the first provider
          </Link>
        </div>
      ) : (
        <div class="table-wrap">
          <table class="table">
            <caption class="visually-hidden">Cloud Providers and their status</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col" class="hide-narrow">
                  Application Id
                </th>
                <th scope="col" class="hide-narrow">
                  Tenant Id
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((provider) => (
                <tr key={provider.id}>
                  <th scope="row">
                    <Link to={`/cloud-providers/${provider.id}`}>{provider.name}</Link>
                  </th>
                  <td>
                    <Badges badges={providerBadges(provider)} />
                  </td>
                  <td class="hide-narrow">
                    <code class="id">{provider.applicationId}</code>
                  </td>
                  <td class="hide-narrow">
                    <code class="id">{provider.tenantId}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
