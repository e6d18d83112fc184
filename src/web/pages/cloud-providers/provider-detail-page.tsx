/**
 * One Cloud Provider: its status and settings, the actions menu (Authenticate, device code,
 * Update Client Secret, Edit, Delete), the signed-in identities and the timeline. The OAuth
 * callback brings the browser back here with the outcome in the query string.
 */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { getProvider, providerEvents } from '../../api/cloud-providers.js';
import type { Grant } from '../../api/schemas.js';
import { Loading, PageHeader } from '../../components/app-shell.js';
import { Badges } from '../../components/badge.js';
import { DiagnoseButton } from '../../components/diagnose-button.js';
import { EventTimeline } from '../../components/event-timeline.js';
import { MenuButton, type MenuItem } from '../../components/menu-button.js';
import { ErrorNotice, Notice } from '../../components/notice.js';
import { grantIdentity, providerBadges } from '../../lib/provider-status.js';
import { Link, navigate, useLocation } from '../../lib/router.js';
import { resumeRequest } from '../../lib/routes.js';
import { useResource } from '../../lib/use-resource.js';
import { AuthenticateDialog } from './authenticate-dialog.js';
import { DeleteDialog } from './delete-dialog.js';
import { DeviceCodeDialog } from './device-code-dialog.js';
import { GrantsTable } from './grants-table.js';
import { OutcomeBanner, outcomeOf, type Outcome } from './provider-banners.js';
import { ProviderFacts } from './provider-facts.js';
import { AdminConsentDialog } from './admin-consent-dialog.js';
import { CertificateDialog } from './certificate-dialog.js';
import { SecretDialog } from './secret-dialog.js';

type OpenDialog = 'none' | 'authenticate' | 'device-code' | 'secret' | 'certificate' | 'admin-consent' | 'delete';

export function ProviderDetailPage({ id }: { id: number }): JSX.Element {
  const location = useLocation();
  const resource = useResource(() => getProvider(id), String(id));
  const [outcome, setOutcome] = useState<Outcome | null>(() => outcomeOf(location.search));
  // Coming from a console opened under another address (see AuthenticateDialog): continue here.
  const [resume] = useState(() => resumeRequest(location.search));
  const [dialog, setDialog] = useState<OpenDialog>(resume === null ? 'none' : 'authenticate');
  const [timelineKey, setTimelineKey] = useState(0);

  // The outcome is shown once: the address loses its query so a reload does not repeat it.
  useEffect(() => {
    if (location.search.toString() !== '') {
      setOutcome(outcomeOf(location.search));
      navigate(`/cloud-providers/${id}`, { replace: true });
    }
  }, [location.search.toString()]);

  const refresh = (): void => {
    void resource.reload();
    setTimelineKey((k) => k + 1);
  };
  const signedIn = (grant: Grant): void => {
    setOutcome({ kind: 'signed-in', who: grantIdentity(grant) });
    refresh();
  };

  const provider = resource.data;
  if (provider === undefined) {
    return (
      <section>
        <PageHeader title="Cloud Provider" />
        {resource.error === undefined ? <Loading what="the provider" /> : <ErrorNotice error={resource.error} />}
        <Link to="/cloud-providers">Back to Cloud Providers</Link>
      </section>
    );
  }

  const deviceCode = provider.grantType === 'device_code';
  const items: MenuItem[] = [
    {
      label: deviceCode ? 'Authenticate with a device code' : 'Authenticate',
      onSelect: () => setDialog(deviceCode ? 'device-code' : 'authenticate'),
    },
    { label: 'Update Client Secret', onSelect: () => setDialog('secret') },
    { label: 'Certificate', onSelect: () => setDialog('certificate') },
    { label: 'Admin consent link', onSelect: () => setDialog('admin-consent') },
    { label: 'Edit', onSelect: () => navigate(`/cloud-providers/${provider.id}/edit`) },
    { label: 'Delete', onSelect: () => setDialog('delete'), danger: true },
  ];

  return (
    <section>
      <PageHeader
        title={provider.name}
        actions={
          <>
            <DiagnoseButton target={{ provider: provider.id }} label={provider.name} />
            <MenuButton label="Actions" items={items} />
          </>
        }
      >
        <p class="lead">
          <Link to="/cloud-providers">Cloud Providers</Link> / {provider.name}
        </p>
        <Badges badges={providerBadges(provider)} />
      </PageHeader>
      {outcome === null ? null : (
        <OutcomeBanner outcome={outcome} provider={provider} onDismiss={() => setOutcome(null)} />
      )}
      {resource.error === undefined ? null : <ErrorNotice error={resource.error} />}
      {provider.warnings.map((warning) => (
        <Notice key={warning} tone="warn">
          {warning}
        </Notice>
      ))}
      {provider.lastError === null || outcome?.kind === 'authentication-failed' ? null : (
        <Notice tone="error">
          <p class="notice-title">Last error</p>
          <p>{provider.lastError.message}</p>
          {provider.lastError.remedy === null ? null : (
            <p class="notice-remedy">
              <strong>What to do:</strong> {provider.lastError.remedy}
            </p>
          )}
          <p class="notice-code">
            Error code: <code>{provider.lastError.code}</code>
          </p>
        </Notice>
      )}
      <section class="card" aria-labelledby="grants-title">
        <h2 id="grants-title">Signed-in identities</h2>
        <GrantsTable providerId={provider.id} grants={provider.grants} onChanged={refresh} />
      </section>
      <div class="columns">
        <section class="card" aria-labelledby="settings-title">
          <h2 id="settings-title">Settings</h2>
          <ProviderFacts provider={provider} />
        </section>
        <section class="card" aria-labelledby="timeline-title">
          <h2 id="timeline-title">Timeline</h2>
          <EventTimeline
            load={(before) => providerEvents(provider.id, before)}
            refreshKey={`${provider.id}-${timelineKey}`}
          />
        </section>
      </div>
      <AuthenticateDialog
        provider={provider}
        open={dialog === 'authenticate'}
        {...(resume === null ? {} : { loginHint: resume.loginHint })}
        onClose={() => setDialog('none')}
        onSignedIn={(grant) => {
          setDialog('none');
          signedIn(grant);
        }}
      />
      <DeviceCodeDialog
        provider={provider}
        open={dialog === 'device-code'}
        onClose={() => setDialog('none')}
        onSignedIn={signedIn}
      />
      <SecretDialog
        provider={provider}
        open={dialog === 'secret'}
        onClose={() => setDialog('none')}
        onSaved={() => {
          setDialog('none');
          setOutcome({ kind: 'secret-updated' });
          refresh();
        }}
      />
      <CertificateDialog
        provider={provider}
        open={dialog === 'certificate'}
        onClose={() => setDialog('none')}
        onSaved={() => {
          setDialog('none');
          refresh();
        }}
      />
      <AdminConsentDialog provider={provider} open={dialog === 'admin-consent'} onClose={() => setDialog('none')} />
      <DeleteDialog
        provider={provider}
        open={dialog === 'delete'}
        onClose={() => setDialog('none')}
        onDeleted={() => navigate('/cloud-providers')}
      />
    </section>
  );
}
