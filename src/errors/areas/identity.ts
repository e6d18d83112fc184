import type { CatalogueEntry } from '../catalogue.js';

/**
 * Errors of Microsoft sign-in and tokens (Entra ID v2.0), each with the remedy an administrator
 * can act on. The AADSTS code, when there is one, travels in `details.aadsts`.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/reference-error-codes
 */
export const IDENTITY_ERRORS = {
  AUTH_SECRET_INVALID: {
    status: 409,
    kind: 'needs-admin',
    message: 'Microsoft rejected the client secret (AADSTS7000215).',
    remedy:
      'The secret ID was probably pasted instead of its value. In the Azure portal open the app registration, Certificates & secrets, create a new client secret, copy its Value (shown only once) and use Update Client Secret.',
  },
  AUTH_SECRET_EXPIRED: {
    status: 409,
    kind: 'needs-admin',
    message: 'The client secret has expired (AADSTS7000222).',
    remedy:
      'Generate a new client secret in the Azure portal (Certificates & secrets) and use Update Client Secret on this Cloud Provider.',
  },
  AUTH_SECRET_MISSING: {
    status: 409,
    kind: 'needs-admin',
    message: 'Microsoft expects a client secret for this app, and none was sent (AADSTS7000218).',
    remedy:
      'Enter the client secret with Update Client Secret; or, for device code or password sign-in, set "Allow public client flows" to Yes under Authentication in the app registration.',
  },
  AUTH_SECRET_NOT_ALLOWED: {
    status: 409,
    kind: 'needs-admin',
    message: 'This app is a public client and must not send a client secret (AADSTS700025).',
    remedy:
      'Remove the client secret from this Cloud Provider, or register the app as a Web (confidential) application.',
  },
  AUTH_CERTIFICATE_INVALID: {
    status: 409,
    kind: 'needs-admin',
    message:
      "Microsoft did not accept the provider's certificate: it is not one of the app registration's certificates, or the signature did not verify (AADSTS700027).",
    remedy:
      "Download the provider's certificate from Postern (Cloud Provider → Certificate → Download) and upload it to the app registration in the Azure portal (Certificates & secrets → Certificates → Upload certificate); check that the thumbprints match.",
  },
  AUTH_CERTIFICATE_EXPIRED: {
    status: 409,
    kind: 'needs-admin',
    message: "The provider's certificate has expired.",
    remedy:
      'Generate or upload a new certificate on the Cloud Provider, then upload its certificate to the app registration in the Azure portal (Certificates & secrets → Certificates).',
  },
  AUTH_ASSERTION_TIME_INVALID: {
    status: 409,
    kind: 'needs-admin',
    message:
      "Microsoft found the signed client assertion outside its valid time range (AADSTS700024): this server's clock is probably wrong.",
    remedy: "Synchronise this server's clock (NTP, for example systemd-timesyncd or chrony), then try again.",
  },
  AUTH_APP_ROLES_MISSING: {
    status: 409,
    kind: 'needs-admin',
    message: 'The app-only token carries none of the application permissions Postern needs.',
    remedy:
      "Add the application permissions (Office 365 Exchange Online: IMAP.AccessAsApp, SMTP.SendAsApp; Microsoft Graph: Mail.ReadWrite, Mail.Send) to the app registration, then open the Cloud Provider's admin consent link and have a tenant administrator accept it.",
  },
  AUTH_APP_NOT_FOUND: {
    status: 409,
    kind: 'needs-admin',
    message: 'Microsoft does not know this application in this directory (AADSTS700016).',
    remedy:
      "Check the Application (client) ID and the Directory (tenant) ID against the app registration's Overview page, and that an administrator has consented to the app in this tenant.",
  },
  AUTH_SINGLE_TENANT_APP: {
    status: 409,
    kind: 'needs-admin',
    message: 'This app is single-tenant and cannot sign in through "common" (AADSTS50194).',
    remedy: 'Use the Directory (tenant) ID of the app registration as the Tenant Id of this Cloud Provider.',
  },
  AUTH_TENANT_NOT_FOUND: {
    status: 409,
    kind: 'needs-admin',
    message: 'Microsoft does not know this tenant (AADSTS90002).',
    remedy: "Copy the Directory (tenant) ID from the app registration's Overview page into this Cloud Provider.",
  },
  AUTH_REDIRECT_URI_MISMATCH: {
    status: 409,
    kind: 'needs-admin',
    message: 'The redirect URI is not registered on the app (AADSTS50011).',
    remedy:
      "In the Azure portal, Authentication, add a Web platform redirect URI exactly equal to this Cloud Provider's Redirect URI.",
  },
  AUTH_SCOPE_INVALID: {
    status: 409,
    kind: 'needs-admin',
    message: 'Microsoft refused the requested scopes (AADSTS70011, 700022, 28000 or 28003).',
    remedy:
      'Request scopes of one resource per token: https://outlook.office.com/IMAP.AccessAsUser.All and SMTP.Send for IMAP/SMTP, or Graph Mail.* scopes for the Graph transport.',
  },
  AUTH_CONSENT_REQUIRED: {
    status: 409,
    kind: 'needs-admin',
    message: 'The app has not been granted the permissions it needs (AADSTS65001).',
    remedy:
      'Authenticate the Cloud Provider again and accept the consent page, or have an administrator use "Grant admin consent" under API permissions.',
  },
  AUTH_ADMIN_CONSENT_REQUIRED: {
    status: 409,
    kind: 'needs-admin',
    message: 'Only an administrator can consent to the permissions this app asks for (AADSTS90094).',
    remedy:
      'Ask a tenant administrator to use "Grant admin consent" under the app\'s API permissions, then authenticate again.',
  },
  AUTH_ACCESS_DENIED: {
    status: 409,
    kind: 'needs-admin',
    message: 'The sign-in was cancelled or the consent was declined.',
    remedy: 'Authenticate again and accept the permissions the app asks for.',
  },
  AUTH_REAUTH_INACTIVE: {
    status: 409,
    kind: 'needs-admin',
    message: 'The refresh token expired after 90 days without use (AADSTS700082).',
    remedy:
      'Authenticate the Cloud Provider again. Postern refreshes tokens in use; this happens when the provider was not used for 90 days.',
  },
  AUTH_SESSIONS_REVOKED: {
    status: 409,
    kind: 'needs-admin',
    message: "The user's sessions were revoked, so the grant is no longer valid (AADSTS50173).",
    remedy: 'Authenticate the Cloud Provider again, signed in as the same user.',
  },
  AUTH_PASSWORD_CHANGED: {
    status: 409,
    kind: 'needs-admin',
    message: "The user's password changed or expired, which ended the grant (AADSTS50133/50132).",
    remedy: 'Authenticate the Cloud Provider again with the new password.',
  },
  AUTH_SIGNIN_FREQUENCY: {
    status: 409,
    kind: 'needs-admin',
    message: 'A Conditional Access sign-in frequency policy ended the session (AADSTS70043).',
    remedy:
      'Authenticate again. To stay connected longer, extend Session → Sign-in frequency in the Conditional Access policy (for example to 365 days).',
  },
  AUTH_MFA_REQUIRED: {
    status: 409,
    kind: 'needs-admin',
    message: 'Multi-factor authentication is required for this user (AADSTS50076).',
    remedy: 'Use the authorization code or device code sign-in, which can satisfy MFA; password (ROPC) sign-in cannot.',
  },
  AUTH_USER_INVALID: {
    status: 409,
    kind: 'needs-admin',
    message: 'Microsoft refused the user (disabled, locked, or not in this tenant).',
    remedy: 'Check the account in the Microsoft Entra admin center, or sign in as another user.',
  },
  AUTH_BAD_CREDENTIALS: {
    status: 409,
    kind: 'needs-admin',
    message: 'The username or password was rejected by Microsoft (AADSTS50126).',
    remedy: 'Enter the right password for the mailbox user, or use authorization code sign-in.',
  },
  AUTH_GRANT_INVALID: {
    status: 409,
    kind: 'needs-admin',
    message: 'Microsoft no longer accepts this grant (invalid_grant).',
    remedy: 'Authenticate the Cloud Provider again.',
  },
  AUTH_STATE_INVALID: {
    status: 400,
    kind: 'permanent',
    message: 'The sign-in response does not match a sign-in started here, or was already used.',
    remedy: 'Start the authentication again from the Cloud Provider page, and finish it within 10 minutes.',
  },
  AUTH_SIGN_IN_LINK_INVALID: {
    status: 400,
    kind: 'permanent',
    message: 'This sign-in link is unknown, expired or already used.',
    remedy:
      'Start the authentication again (postern providers authenticate, or the API), and open the new link within 10 minutes while signed in to the console as the user it names.',
  },
  AUTH_CALLBACK_INVALID: {
    status: 400,
    kind: 'permanent',
    message: 'The sign-in response from Microsoft is incomplete or invalid.',
    remedy: 'Start the authentication again from the Cloud Provider page.',
  },
  AUTH_ID_TOKEN_INVALID: {
    status: 502,
    kind: 'permanent',
    message: 'The ID token returned by Microsoft did not validate.',
    remedy: "Check that the Cloud Provider's cloud and tenant are right; then authenticate again.",
  },
  AUTH_DEVICE_CODE_EXPIRED: {
    status: 409,
    kind: 'permanent',
    message: 'The device code expired before the sign-in was completed.',
    remedy: 'Start the device code sign-in again and enter the code within 15 minutes.',
  },
  AUTH_DEVICE_CODE_DECLINED: {
    status: 409,
    kind: 'permanent',
    message: 'The user declined the device code sign-in.',
    remedy: 'Start the device code sign-in again and accept it.',
  },
  AUTH_REQUEST_LOOP: {
    status: 503,
    kind: 'transient',
    message:
      'Microsoft refused the token request as part of a request loop (AADSTS50196): it saw too many identical requests in a short time.',
    remedy:
      'Nothing to do if it passes: Postern waits longer before asking again. If it lasts, make sure no other program or second Postern installation signs in with the same application and user, and that only one device code sign-in runs for this Cloud Provider at a time.',
  },
  AUTH_NOT_AUTHENTICATED: {
    status: 409,
    kind: 'needs-admin',
    message: 'The Cloud Provider has no grant for this user yet.',
    remedy: 'Authenticate the Cloud Provider, signed in as the mailbox user (or its delegate for a shared mailbox).',
  },
  AUTH_PROVIDER_UNAVAILABLE: {
    status: 503,
    kind: 'transient',
    message: "Microsoft's identity service did not answer properly.",
    remedy:
      "Nothing to do: Postern retries with backoff. If it lasts, check that this server can reach the identity platform's host named in the message (its DNS name, firewall and proxy) and, for a custom authority, the Cloud Provider's authority URL.",
  },
  AUTH_PROVIDER_REJECTED: {
    status: 409,
    kind: 'needs-admin',
    message: 'Microsoft refused the token request.',
    remedy: 'Read the AADSTS code in the details and check the app registration against the Cloud Provider.',
  },
} as const satisfies Record<string, CatalogueEntry>;
