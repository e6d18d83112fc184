import type { CatalogueEntry } from '../catalogue.js';

/**
 * Errors of reaching a mailbox through Microsoft Graph (reading with delta and `$value`, sending
 * with `sendMail`). The Graph adapter (src/mail/graph/graph-errors.ts) maps Graph's status and
 * `error.code` to these; Graph's own code and message travel in `details.graphCode` and
 * `details.response`.
 *
 * @see ../../../../shared/reference/microsoft-protocols.md §6–8
 * @see https://learn.microsoft.com/graph/errors
 * @see https://learn.microsoft.com/graph/throttling
 */
export const GRAPH_ERRORS = {
  GRAPH_AUTH_FAILED: {
    status: 409,
    kind: 'needs-admin',
    message: 'Microsoft Graph refused the access token (401 InvalidAuthenticationToken).',
    remedy:
      "Authenticate the account's Cloud Provider again. Its scopes must name Microsoft Graph's mail permissions (https://graph.microsoft.com/Mail.ReadWrite and Mail.Send, with .Shared for a shared mailbox), or for app-only access the application permissions Mail.ReadWrite and Mail.Send with admin consent.",
  },
  GRAPH_ACCESS_DENIED: {
    status: 409,
    kind: 'needs-admin',
    message: 'Microsoft Graph denied access to the mailbox (403 ErrorAccessDenied).',
    remedy:
      "Check, in this order: 1) the Cloud Provider was authenticated with the Graph mail permissions (Mail.ReadWrite and Mail.Send; Mail.ReadWrite.Shared and Mail.Send.Shared for a shared mailbox; for app-only access, the application permissions with admin consent, or the RBAC for Applications roles of point 3) — authenticate it again after adding them; 2) for a shared mailbox, the modern authentication email (the delegate) has FullAccess on it (Add-MailboxPermission <shared> -User <delegate> -AccessRights FullAccess); 3) for app-only access, the mailbox is inside the application's scope: with RBAC for Applications (no Entra application permission needed), a management scope whose recipient filter includes the mailbox, assigned to the app with New-ManagementRoleAssignment -App <application id> -Role 'Application Mail.ReadWrite' (and 'Application Mail.Send') -CustomResourceScope <scope>; with the Entra application permission, no Application Access Policy that keeps the app from the mailbox (Test-ApplicationAccessPolicy). Exchange Online can take up to two hours to apply a change.",
  },
  GRAPH_SEND_AS_DENIED: {
    status: 409,
    kind: 'needs-admin',
    message:
      'Microsoft Graph refused the sender: the signed-in user may not send as this mailbox (403 ErrorSendAsDenied).',
    remedy:
      'Grant the delegate Send As on the shared mailbox (Exchange admin center → the shared mailbox → Delegation → Send as, or Add-RecipientPermission <shared mailbox> -Trustee <delegate> -AccessRights SendAs); the change can take up to an hour to apply. Then retry the message.',
  },
  GRAPH_MAILBOX_NOT_FOUND: {
    status: 409,
    kind: 'needs-admin',
    message: 'Microsoft Graph does not know this mailbox, or it cannot be reached through Graph.',
    remedy:
      "Check the account's username: it must be the mailbox's own address (for a shared mailbox, the shared address). A mailbox that is not in Exchange Online (on-premises, or without a licence) cannot be read through Graph: use IMAP and SMTP for it.",
  },
  GRAPH_QUOTA_EXCEEDED: {
    status: 409,
    kind: 'permanent',
    message:
      'Microsoft Graph refused the message: the mailbox reached its daily recipient limit (403 ErrorSubmissionQuotaExceeded).',
    remedy:
      "The mailbox has sent to 10,000 recipients in the last 24 hours (other clients count too, not only Postern). Lower the account's recipients per day if other clients share the mailbox, and retry the message once the rolling day frees room.",
  },
  GRAPH_MESSAGE_TOO_LARGE: {
    status: 413,
    kind: 'permanent',
    message: 'Microsoft Graph refused the message as too large.',
    remedy: 'Send smaller attachments, or share large files by link.',
  },
  GRAPH_MESSAGE_REJECTED: {
    status: 422,
    kind: 'permanent',
    message: 'Microsoft Graph refused the message.',
    remedy:
      "Read Graph's reason in the message's timeline, correct the message (its recipients, usually) and send it again.",
  },
  GRAPH_THROTTLED: {
    status: 503,
    kind: 'transient',
    message: 'Microsoft Graph is throttling requests for this mailbox (429).',
    remedy: 'Nothing to do: Postern waits for the time Graph asked (Retry-After) and continues.',
  },
  GRAPH_UNAVAILABLE: {
    status: 503,
    kind: 'transient',
    message: 'Microsoft Graph is unavailable for now (5xx).',
    remedy: 'Nothing to do: Postern tries again with growing delays.',
  },
  GRAPH_CONNECTION_FAILED: {
    status: 503,
    kind: 'transient',
    message: 'The connection to Microsoft Graph failed or timed out.',
    remedy:
      'Postern tries again with growing delays. If it persists, check the network path from this server to graph.microsoft.com (HTTPS, port 443) and any proxy on it.',
  },
  GRAPH_TLS_FAILED: {
    status: 502,
    kind: 'needs-admin',
    message: 'The TLS connection to Microsoft Graph could not be established or its certificate was not trusted.',
    remedy:
      'Check that this server trusts the public certificate authorities (a TLS-inspecting proxy needs its CA in NODE_EXTRA_CA_CERTS), and for a Cloud Provider with a custom authority, its CA file.',
  },
  GRAPH_DELTA_EXPIRED: {
    status: 503,
    kind: 'transient',
    message: "Microsoft Graph no longer knows the folder's sync state (410 SyncStateNotFound).",
    remedy:
      'Nothing to do: Postern reads the folder again from the start; messages already stored are not stored twice.',
  },
  GRAPH_REQUEST_FAILED: {
    status: 502,
    kind: 'permanent',
    message: 'Microsoft Graph refused a request.',
    remedy: "Read Graph's code and reason in the details; if the request looks right, report it with the request-id.",
  },
  GRAPH_NOTIFICATION_REFUSED: {
    status: 403,
    kind: 'permanent',
    message:
      'Postern refused a Microsoft Graph notification: it names no subscription Postern holds, or its clientState does not match.',
    remedy:
      'Nothing to do when this is rare (a subscription deleted moments ago). If it is frequent, something other than Microsoft Graph is posting to /api/graph/notifications; the mailbox is still read by polling.',
  },
  GRAPH_PERMISSION_MISSING: {
    status: 409,
    kind: 'needs-admin',
    message: "The account's sign-in lacks the Microsoft Graph permission needed to reach the mailbox through Graph.",
    remedy:
      "Add the permission named in the message to the app registration in the Azure portal (API permissions → Microsoft Graph; delegated permissions for a user's sign-in, application permissions with admin consent for app-only access); for a delegated sign-in also add it to the Cloud Provider's scopes (https://graph.microsoft.com/<permission>). Then authenticate the Cloud Provider again.",
  },
  GRAPH_FOLDER_NOT_FOUND: {
    status: 409,
    kind: 'needs-admin',
    message: "Microsoft Graph finds no folder of the account's name in the mailbox.",
    remedy:
      "Correct the account's folder: a well-known name (Inbox, Junk Email, Archive) or the folder's path as Outlook shows it (Customers/Acme); or create the folder in the mailbox.",
  },
} as const satisfies Record<string, CatalogueEntry>;
