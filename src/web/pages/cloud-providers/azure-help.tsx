/**
 * The reference guide's Azure steps, next to the fields they fill: where the ids are, the redirect
 * URI to register, the secret, and the API permissions (with the shared-mailbox extras).
 */
import type { JSX } from 'preact';
import { CopyField } from '../../components/copy-field.js';

interface Permission {
  name: string;
  type: 'Delegated' | 'Application';
  description: string;
  adminConsent?: boolean;
}

const DELEGATED: Permission[] = [
  { name: 'email', type: 'Delegated', description: "View users' email address" },
  { name: 'offline_access', type: 'Delegated', description: 'Maintain access to data you have given it access to' },
  { name: 'openid', type: 'Delegated', description: 'Sign users in' },
  { name: 'profile', type: 'Delegated', description: "View users' basic profile" },
  { name: 'IMAP.AccessAsUser.All', type: 'Delegated', description: 'Read and write access to mailboxes via IMAP' },
  { name: 'SMTP.Send', type: 'Delegated', description: 'Send emails from mailboxes using SMTP AUTH' },
];

const SHARED_EXTRAS: Permission[] = [
  { name: 'User.Read', type: 'Delegated', description: 'Sign in and read user profile', adminConsent: false },
  {
    name: 'Mailbox.Settings.ReadWrite',
    type: 'Application',
    description: 'Read and write all user mailbox settings',
    adminConsent: true,
  },
  {
    name: 'Mailbox.Settings.Read',
    type: 'Application',
    description: 'Read all user mailbox settings',
    adminConsent: true,
  },
  { name: 'Mail.Send.Shared', type: 'Delegated', description: 'Send mail on behalf of others', adminConsent: false },
  { name: 'Mail.Send', type: 'Application', description: 'Send mail as any user', adminConsent: true },
  {
    name: 'Mail.ReadWrite.Shared',
    type: 'Delegated',
    description: 'Read and write user and shared mail',
    adminConsent: false,
  },
  {
    name: 'Mail.ReadWrite',
    type: 'Application',
    description: 'Read and write mail in all mailboxes',
    adminConsent: true,
  },
  {
    name: 'Mail.ReadBasic.All',
    type: 'Application',
    description: 'Read basic mail in all mailboxes',
    adminConsent: true,
  },
  { name: 'Mail.ReadBasic', type: 'Application', description: 'Read basic mail in all mailboxes', adminConsent: true },
  { name: 'Mail.Read.Shared', type: 'Delegated', description: 'Read user and shared mail', adminConsent: false },
  { name: 'Mail.Read', type: 'Application', description: 'Read mail in all mailboxes', adminConsent: true },
  {
    name: 'Contacts.ReadWrite.Shared',
    type: 'Delegated',
    description: 'Read and write user and shared contacts',
    adminConsent: false,
  },
  {
    name: 'Contacts.Read.Shared',
    type: 'Delegated',
    description: 'Read user and shared contacts',
    adminConsent: false,
  },
];

/** Microsoft Graph's delegated mail permissions: for accounts of transport Auto or Graph. */
const GRAPH_DELEGATED: Permission[] = [
  { name: 'Mail.ReadWrite', type: 'Delegated', description: 'Read and write access to user mail' },
  { name: 'Mail.Send', type: 'Delegated', description: 'Send mail as a user' },
  { name: 'Mail.ReadWrite.Shared', type: 'Delegated', description: 'Read and write user and shared mail' },
  { name: 'Mail.Send.Shared', type: 'Delegated', description: 'Send mail on behalf of others' },
];

/** Application permissions for a provider that signs in as itself (client credentials). */
const APP_ONLY: Permission[] = [
  {
    name: 'Mail.ReadWrite',
    type: 'Application',
    description: 'Read and write mail in all mailboxes (Microsoft Graph)',
    adminConsent: true,
  },
  {
    name: 'Mail.Send',
    type: 'Application',
    description: 'Send mail as any user (Microsoft Graph)',
    adminConsent: true,
  },
  {
    name: 'IMAP.AccessAsApp',
    type: 'Application',
    description: 'IMAP access to mailboxes (Office 365 Exchange Online)',
    adminConsent: true,
  },
  {
    name: 'SMTP.SendAsApp',
    type: 'Application',
    description: 'Send mail through SMTP AUTH as any mailbox (Office 365 Exchange Online)',
    adminConsent: true,
  },
];

function PermissionTable({
  caption,
  rows,
  withConsent,
}: {
  caption: string;
  rows: Permission[];
  withConsent: boolean;
}): JSX.Element {
  return (
    <div class="table-wrap">
      <table class="table table-compact">
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Permission</th>
            <th scope="col">Type</th>
            <th scope="col">Description</th>
            {withConsent ? <th scope="col">Admin consent</th> : null}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={`${row.name}-${row.type}`}>
              <td>
                <code>{row.name}</code>
              </td>
              <td>{row.type}</td>
              <td>{row.description}</td>
              {withConsent ? <td>{row.adminConsent === true ? 'Yes' : 'No'}</td> : null}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export const HELP = {
  name: 'A name of your choice, for example the mailbox or department this provider serves.',
  applicationId: (
    <>
      The <strong>Application (client) ID</strong> of the app registration: Azure portal → Microsoft Entra ID → App
      registrations → your app → Overview. The ID, not the display name, identifies the app.
    </>
  ),
  tenantId: (
    <>
      The <strong>Directory (tenant) ID</strong>, on the same Overview page. If you manage several tenants, pick the
      right one under Directories + Subscriptions first. A verified domain such as <code>contoso.onmicrosoft.com</code>{' '}
      works too.
    </>
  ),
  clientSecret: (
    <>
      Certificates &amp; secrets → Client secrets → New client secret. Copy the secret's <strong>Value</strong> at once:
      it is never shown again, neither in the Azure portal nor here. It is stored encrypted and cannot be read back.
    </>
  ),
  credential: (
    <>
      A client secret, or a certificate: Microsoft recommends certificates for applications that sign in as themselves
      (client credentials). Postern keeps the private key encrypted and offers the certificate to upload in Azure.
    </>
  ),
  secretExpiry:
    'The expiry you chose in Azure (at most 24 months; Microsoft recommends less than 12). Postern warns 30 days before.',
};

export function RedirectUriHelp({ uri }: { uri: string }): JSX.Element {
  return (
    <>
      <p>
        Register exactly this URI in Azure: Manage → Authentication → Platform configurations → Add a platform →{' '}
        <strong>Web</strong>. Microsoft sends the sign-in result there.
      </p>
      <CopyField label="redirect URI" value={uri} />
    </>
  );
}

/** The aside of the create and edit pages: the guide's app-registration steps. */
export function AzureSetupGuide(): JSX.Element {
  return (
    <aside class="guide" aria-labelledby="guide-title">
      <h2 id="guide-title">Register the app in Azure</h2>
      <ol class="steps">
        <li>
          Sign in to the Azure portal and go to{' '}
          <strong>Microsoft Entra ID → App registrations → New registration</strong>.
        </li>
        <li>
          Enter a display name, choose the supported account types (single tenant for your organisation only), leave the
          redirect URI empty, and click Register.
        </li>
        <li>
          Note the <strong>Application (client) ID</strong> and the <strong>Directory (tenant) ID</strong>.
        </li>
        <li>
          Under <strong>Authentication</strong>, add the Web platform with the redirect URI shown in the form.
        </li>
        <li>
          Under <strong>Certificates &amp; secrets</strong>, create a client secret and copy its value.
        </li>
        <li>
          Under <strong>API permissions → Add a permission → Microsoft Graph → Delegated permissions</strong>, add the
          permissions below, then Add permissions and have an administrator approve any that need consent.
        </li>
      </ol>
      <PermissionTable caption="Delegated permissions for IMAP and SMTP" rows={DELEGATED} withConsent={false} />
      <p class="hint">
        SMTP.Send works only when SMTP AUTH is enabled for the mailbox that sends: Exchange admin center → the mailbox →
        Manage email apps → Authenticated SMTP.
      </p>
      <details class="disclosure">
        <summary>Using a shared mailbox? Add these too</summary>
        <p>
          Shared mailboxes in the cloud (not on-premises) are supported. Application permissions are under{' '}
          <em>Application permissions</em> and need an administrator's consent.
        </p>
        <PermissionTable caption="Extra permissions for shared mailboxes" rows={SHARED_EXTRAS} withConsent={true} />
        <p>
          When you authenticate, sign in as a user who has Full Access to the shared mailbox (for example andrea@… for
          developers@…): that user becomes the account's <strong>Modern Authentication Email</strong>.
        </p>
      </details>
      <details class="disclosure">
        <summary>Reading or sending through Microsoft Graph? Add these too</summary>
        <p>
          Accounts of transport <strong>Auto</strong> switch to Microsoft Graph by themselves when Exchange has IMAP or
          SMTP AUTH disabled; accounts of transport <strong>Graph</strong> use it always. Both need Microsoft Graph's
          delegated mail permissions (the <code>.Shared</code> ones for a shared mailbox); authenticate the provider
          again after adding them.
        </p>
        <PermissionTable
          caption="Delegated permissions for Microsoft Graph"
          rows={GRAPH_DELEGATED}
          withConsent={false}
        />
      </details>
      <details class="disclosure">
        <summary>Signing in as the application, with no user (app-only)?</summary>
        <p>
          Add application permissions instead, then open the provider's admin consent link and have a tenant
          administrator accept it. For Microsoft Graph, limit the mailboxes the application may open with RBAC for
          Applications (a management scope and <code>New-ManagementRoleAssignment -App … -CustomResourceScope …</code>)
          or an Application Access Policy. For IMAP and SMTP, register the application in Exchange with{' '}
          <code>New-ServicePrincipal</code> (the enterprise application's object id, not the app registration's) and
          give it Full Access to each mailbox with{' '}
          <code>Add-MailboxPermission -User &lt;service principal&gt; -AccessRights FullAccess</code>.
        </p>
        <PermissionTable caption="Application permissions for app-only access" rows={APP_ONLY} withConsent={true} />
      </details>
    </aside>
  );
}
