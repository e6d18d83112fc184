/**
 * The Cloud Provider form with the guide's fields (Name, Service, Type, Application Id, Tenant Id,
 * Client Secret, Redirect URI) and, folded, the choices beyond the guide: grant type, cloud,
 * authority and scopes.
 */
import type { JSX, TargetedSubmitEvent } from 'preact';
import { useState } from 'preact/hooks';
import type { NewCredential, ProviderFields } from '../../api/cloud-providers.js';
import { CLOUDS, GRANT_TYPES, type Cloud, type GrantType, type Provider } from '../../api/schemas.js';
import { SelectField, TextArea, TextField, problemsByField } from '../../components/fields.js';
import { ErrorNotice } from '../../components/notice.js';
import { CLOUD_LABELS, GRANT_TYPE_LABELS } from '../../lib/provider-status.js';
import { defaultRedirectUri } from '../../lib/public-url.js';
import { secretIdWarning } from '../../lib/secret-shape.js';
import { FIELD_LIMITS } from '../../lib/field-limits.js';
import type { Submission } from '../../lib/use-submit.js';
import { HELP, RedirectUriHelp } from './azure-help.js';

interface FormValues {
  name: string;
  applicationId: string;
  tenantId: string;
  credential: 'secret' | 'certificate';
  clientSecret: string;
  secretExpiresAt: string;
  redirectUri: string;
  cloud: Cloud;
  authorityUrl: string;
  caFile: string;
  grantType: GrantType;
  scopes: string;
}

function initialValues(provider: Provider | undefined): FormValues {
  return {
    name: provider?.name ?? '',
    applicationId: provider?.applicationId ?? '',
    tenantId: provider?.tenantId ?? '',
    credential: 'secret',
    clientSecret: '',
    secretExpiresAt: '',
    redirectUri: provider?.redirectUri ?? defaultRedirectUri(),
    cloud: CLOUDS.find((c) => c === provider?.cloud) ?? 'global',
    authorityUrl: provider?.authorityUrl ?? '',
    caFile: provider?.caFile ?? '',
    grantType: GRANT_TYPES.find((g) => g === provider?.grantType) ?? 'authorization_code',
    scopes: provider?.scopes.join('\n') ?? '',
  };
}

function fieldsOf(values: FormValues, provider: Provider | undefined): ProviderFields {
  const scopes = values.scopes
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const unchangedScopes = provider !== undefined && scopes.join(' ') === provider.scopes.join(' ');
  return {
    name: values.name.trim(),
    applicationId: values.applicationId.trim(),
    tenantId: values.tenantId.trim(),
    redirectUri: values.redirectUri.trim(),
    cloud: values.cloud,
    authorityUrl: values.cloud === 'custom' && values.authorityUrl.trim() !== '' ? values.authorityUrl.trim() : null,
    caFile: values.cloud === 'custom' && values.caFile.trim() !== '' ? values.caFile.trim() : null,
    grantType: values.grantType,
    scopes: scopes.length === 0 || unchangedScopes ? null : scopes,
  };
}

export interface ProviderFormProps {
  provider?: Provider;
  submission: Submission;
  submitLabel: string;
  onSubmit: (fields: ProviderFields, credential: NewCredential | null) => void;
  onCancel: () => void;
}

export function ProviderForm({
  provider,
  submission,
  submitLabel,
  onSubmit,
  onCancel,
}: ProviderFormProps): JSX.Element {
  const [values, setValues] = useState<FormValues>(() => initialValues(provider));
  const set =
    <K extends keyof FormValues>(key: K) =>
    (value: FormValues[K]): void =>
      setValues((old) => ({ ...old, [key]: value }));
  const problems = problemsByField(submission.error?.fields ?? []);
  const creating = provider === undefined;
  const needsSecret = values.grantType === 'authorization_code' || values.grantType === 'client_credentials';

  const submit = (event: TargetedSubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const credential: NewCredential | null = !creating
      ? null
      : values.credential === 'certificate'
        ? { kind: 'certificate' }
        : values.clientSecret !== ''
          ? { kind: 'secret', clientSecret: values.clientSecret, expiresAt: values.secretExpiresAt }
          : null;
    onSubmit(fieldsOf(values, provider), credential);
  };

  return (
    <form class="card form" onSubmit={submit} aria-label={creating ? 'New Cloud Provider' : `Edit ${provider.name}`}>
      {submission.error === undefined ? null : <ErrorNotice error={submission.error} />}
      <TextField
        label="Name"
        value={values.name}
        onValue={set('name')}
        required
        maxLength={FIELD_LIMITS.providerName}
        help={HELP.name}
        problem={problems.name}
      />
      <div class="field-row">
        <SelectField
          label="Service"
          value="microsoft-azure"
          onValue={() => undefined}
          options={[{ value: 'microsoft-azure', label: 'Microsoft Azure' }]}
        />
        <SelectField
          label="Type"
          value="outlook365"
          onValue={() => undefined}
          options={[{ value: 'outlook365', label: 'Outlook365' }]}
        />
      </div>
      <TextField
        label="Application Id"
        value={values.applicationId}
        onValue={set('applicationId')}
        required
        maxLength={FIELD_LIMITS.applicationId}
        help={HELP.applicationId}
        problem={problems.applicationId}
        placeholder="00000000-0000-0000-0000-000000000000"
      />
      <TextField
        label="Tenant Id"
        value={values.tenantId}
        onValue={set('tenantId')}
        required
        maxLength={FIELD_LIMITS.tenantId}
        help={HELP.tenantId}
        problem={problems.tenantId}
        placeholder="00000000-0000-0000-0000-000000000000"
      />
      {creating ? (
        <SelectField
          label="Credential"
          value={values.credential}
          onValue={(value) => set('credential')(value === 'certificate' ? 'certificate' : 'secret')}
          options={[
            { value: 'secret', label: 'Client secret' },
            { value: 'certificate', label: 'Certificate (Postern generates the key pair)' },
          ]}
          help={HELP.credential}
        />
      ) : null}
      {creating && values.credential === 'secret' ? (
        <div class="field-row">
          <TextField
            label="Client Secret"
            type="password"
            autocomplete="off"
            value={values.clientSecret}
            onValue={set('clientSecret')}
            required={needsSecret}
            maxLength={FIELD_LIMITS.clientSecret}
            help={HELP.clientSecret}
            warning={secretIdWarning(values.clientSecret)}
            problem={problems.clientSecret}
          />
          <TextField
            label="Client secret expires on"
            type="date"
            value={values.secretExpiresAt}
            onValue={set('secretExpiresAt')}
            help={HELP.secretExpiry}
            problem={problems.clientSecretExpiresAt}
          />
        </div>
      ) : creating ? (
        <p class="hint">
          After saving, download the certificate from the provider's page and upload it to the app registration in the
          Azure portal (Certificates &amp; secrets → Certificates).
        </p>
      ) : (
        <p class="hint">The credential is changed with Update Client Secret or Certificate on the provider's page.</p>
      )}
      <TextField
        label="Redirect URI"
        type="url"
        value={values.redirectUri}
        onValue={set('redirectUri')}
        required
        maxLength={FIELD_LIMITS.url}
        help={<RedirectUriHelp uri={values.redirectUri === '' ? defaultRedirectUri() : values.redirectUri} />}
        problem={problems.redirectUri}
      />
      <details class="disclosure" open={values.grantType !== 'authorization_code' || values.cloud !== 'global'}>
        <summary>Advanced: sign-in method, cloud and scopes</summary>
        <SelectField
          label="Grant type"
          value={values.grantType}
          onValue={(v) => set('grantType')(GRANT_TYPES.find((g) => g === v) ?? 'authorization_code')}
          options={GRANT_TYPES.map((g) => ({ value: g, label: GRANT_TYPE_LABELS[g] ?? g }))}
          help={grantTypeHelp(values.grantType)}
          problem={problems.grantType}
        />
        <SelectField
          label="Cloud"
          value={values.cloud}
          onValue={(v) => set('cloud')(CLOUDS.find((c) => c === v) ?? 'global')}
          options={CLOUDS.map((c) => ({ value: c, label: CLOUD_LABELS[c] ?? c }))}
          problem={problems.cloud}
        />
        {values.cloud === 'custom' ? (
          <>
            <TextField
              label="Authority URL"
              type="url"
              value={values.authorityUrl}
              onValue={set('authorityUrl')}
              required
              maxLength={FIELD_LIMITS.url}
              help="The identity platform's base URL, such as the emulator's https://127.0.0.1:PORT."
              problem={problems.authorityUrl}
            />
            <TextField
              label="CA file"
              value={values.caFile}
              onValue={set('caFile')}
              maxLength={FIELD_LIMITS.caFile}
              help="Path, on the Postern server, of a PEM file with the CA that signs the authority's certificate (the emulator's ca.pem)."
              problem={problems.caFile}
            />
          </>
        ) : null}
        <TextArea
          label="Scopes"
          value={values.scopes}
          onValue={set('scopes')}
          rows={4}
          placeholder="Leave empty for the defaults: IMAP.AccessAsUser.All, SMTP.Send, offline_access, openid, profile, email"
          help="One per line. Exchange scopes and Graph scopes are separate resources: a token is obtained for each."
          problem={problems.scopes}
        />
      </details>
      <div class="form-actions">
        <button type="submit" class="button button-primary" disabled={submission.busy}>
          {submission.busy ? 'Saving…' : submitLabel}
        </button>
        <button type="button" class="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function grantTypeHelp(grantType: GrantType): string {
  switch (grantType) {
    case 'authorization_code':
      return 'An administrator signs in with the mailbox user in a browser; Postern keeps the tokens fresh.';
    case 'device_code':
      return 'Sign in on any device with a code: for servers without a browser. Enable "Allow public client flows" in Azure → Authentication.';
    case 'client_credentials':
      return 'No user: the app itself, with Office 365 Exchange Online application permissions (IMAP.AccessAsApp, SMTP.SendAsApp) and an Exchange service principal with mailbox access.';
    case 'password':
      return 'Username and password sent to Microsoft (ROPC): no MFA, blocked by many tenants. Prefer authorization code.';
  }
}
