import type { JSX } from 'preact';
import { certificateDownloadUrl } from '../../api/cloud-providers.js';
import type { Provider } from '../../api/schemas.js';
import { CopyField } from '../../components/copy-field.js';
import { formatDate } from '../../lib/format.js';
import { CLOUD_LABELS, GRANT_TYPE_LABELS } from '../../lib/provider-status.js';

/** The provider's settings as a description list. */
export function ProviderFacts({ provider }: { provider: Provider }): JSX.Element {
  const secret = provider.clientSecret;
  const certificate = provider.clientCertificate;
  return (
    <dl class="facts">
      <dt>Service / Type</dt>
      <dd>
        {provider.service === 'microsoft-azure' ? 'Microsoft Azure' : provider.service} /{' '}
        {provider.type === 'outlook365' ? 'Outlook365' : provider.type}
      </dd>
      <dt>Application Id</dt>
      <dd>
        <code>{provider.applicationId}</code>
      </dd>
      <dt>Tenant Id</dt>
      <dd>
        <code>{provider.tenantId}</code>
      </dd>
      {certificate === null ? (
        <>
          <dt>Client Secret</dt>
          <dd>
            {secret === null
              ? 'Not set'
              : `${secret.hint}${secret.expiresAt === null ? ', expiry unknown' : `, expires on ${formatDate(secret.expiresAt)}`}`}
          </dd>
        </>
      ) : (
        <>
          <dt>Certificate</dt>
          <dd>
            <code>{certificate.thumbprint}</code> ({certificate.subject}), expires on{' '}
            {formatDate(certificate.expiresAt)} —{' '}
            <a href={certificateDownloadUrl(provider.id)}>Download the certificate</a> to upload in Azure
          </dd>
        </>
      )}
      <dt>Redirect URI</dt>
      <dd>{provider.redirectUri === null ? '—' : <CopyField label="redirect URI" value={provider.redirectUri} />}</dd>
      <dt>Grant type</dt>
      <dd>{GRANT_TYPE_LABELS[provider.grantType] ?? provider.grantType}</dd>
      <dt>Cloud</dt>
      <dd>
        {CLOUD_LABELS[provider.cloud] ?? provider.cloud}
        {provider.authorityUrl === null ? null : (
          <>
            {' '}
            — <code>{provider.authorityUrl}</code>
          </>
        )}
      </dd>
      <dt>Scopes</dt>
      <dd class="scopes">
        {provider.scopes.map((s) => (
          <code key={s} class="scope">
            {s}
          </code>
        ))}
      </dd>
    </dl>
  );
}
