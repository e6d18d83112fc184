import type { JSX } from 'preact';
import { createProvider, getProvider, updateProvider } from '../../api/cloud-providers.js';
import { Loading, PageHeader } from '../../components/app-shell.js';
import { ErrorNotice } from '../../components/notice.js';
import { Link, navigate } from '../../lib/router.js';
import { useResource } from '../../lib/use-resource.js';
import { useSubmit } from '../../lib/use-submit.js';
import { AzureSetupGuide } from './azure-help.js';
import { ProviderForm } from './provider-form.js';

export function ProviderNewPage(): JSX.Element {
  const submission = useSubmit();
  return (
    <section>
      <PageHeader title="New Cloud Provider">
        <p class="lead">
          Connect Postern to the app you registered in Microsoft Entra ID.{' '}
          <Link to="/cloud-providers">Back to Cloud Providers</Link>
        </p>
      </PageHeader>
      <div class="with-aside">
        <ProviderForm
          submission={submission}
          submitLabel="Create provider"
          onCancel={() => navigate('/cloud-providers')}
          onSubmit={(fields, credential) => {
            void submission.run(async () => {
              const created = await createProvider(fields, credential);
              navigate(`/cloud-providers/${created.id}?created=1`);
            });
          }}
        />
        <AzureSetupGuide />
      </div>
    </section>
  );
}

export function ProviderEditPage({ id }: { id: number }): JSX.Element {
  const submission = useSubmit();
  const resource = useResource(() => getProvider(id), String(id));
  const provider = resource.data;
  return (
    <section>
      <PageHeader title={provider === undefined ? 'Edit Cloud Provider' : `Edit ${provider.name}`}>
        <p class="lead">
          <Link to={`/cloud-providers/${id}`}>Back to the provider</Link>
        </p>
      </PageHeader>
      {resource.error === undefined ? null : <ErrorNotice error={resource.error} />}
      {provider === undefined ? (
        resource.error === undefined ? (
          <Loading what="the provider" />
        ) : null
      ) : (
        <div class="with-aside">
          <ProviderForm
            provider={provider}
            submission={submission}
            submitLabel="Save changes"
            onCancel={() => navigate(`/cloud-providers/${id}`)}
            onSubmit={(fields) => {
              void submission.run(async () => {
                await updateProvider(id, fields);
                navigate(`/cloud-providers/${id}?saved=1`);
              });
            }}
          />
          <AzureSetupGuide />
        </div>
      )}
    </section>
  );
}
