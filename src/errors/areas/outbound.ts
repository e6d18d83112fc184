import type { CatalogueEntry } from '../catalogue.js';

/**
 * Errors of sending mail: Exchange Online's SMTP submission replies (mapped from their enhanced
 * status codes by src/mail/smtp/smtp-errors.ts; the server's words travel in `details.response`),
 * the outbox's own conditions, and the refusals of the send API. Kinds decide what the dispatcher
 * does: `transient` → retried with backoff; `permanent` and `needs-admin` → the message fails at
 * once with the remedy, and needs-admin ones are also put on the account's timeline — except
 * SMTP_SENDER_THROTTLED, which holds the whole account's sending until Exchange lifts the block.
 *
 * @see ../../../../shared/reference/microsoft-protocols.md §5 (SMTP failure catalogue), §6 (shared mailboxes), §7 (limits)
 * @see https://www.rfc-editor.org/rfc/rfc3463 (enhanced mail system status codes)
 * @see https://learn.microsoft.com/exchange/clients-and-mobile-in-exchange-online/authenticated-client-smtp-submission
 * @see https://learn.microsoft.com/exchange/mail-flow-best-practices/continuous-error-throttling-smtp-auth-submissions
 */
export const OUTBOUND_ERRORS = {
  SMTP_AUTH_DISABLED: {
    status: 409,
    kind: 'needs-admin',
    message: 'Exchange refused the SMTP sign-in: SMTP AUTH is disabled for the tenant (or this mailbox) (535 5.7.139).',
    remedy:
      "SMTP AUTH is disabled for the tenant (or this mailbox): enable authenticated SMTP for the mailbox, or use the Graph transport. In the Exchange admin center open the mailbox (for a shared mailbox, the delegate's), Manage email apps, tick Authenticated SMTP — or run Set-CASMailbox <mailbox> -SmtpClientAuthenticationDisabled $false. Then retry the message.",
  },
  SMTP_AUTH_FAILED: {
    status: 409,
    kind: 'needs-admin',
    message: 'Exchange refused the SMTP sign-in with the access token (535 5.7.3 Authentication unsuccessful).',
    remedy:
      "The token or the login identity is wrong: check that the Cloud Provider is authenticated as the account's modern authentication email and that its scopes include https://outlook.office.com/SMTP.Send (authenticate again after adding it). For a shared mailbox the SMTP login must be the delegate, never the shared address: set the Modern Authentication Email to the delegate. Then retry the message.",
  },
  SMTP_APP_NOT_REGISTERED: {
    status: 409,
    kind: 'needs-admin',
    message:
      "Exchange refused the app-only SMTP sign-in (535 5.7.3 Authentication unsuccessful): the app's service principal is not registered in Exchange Online, is registered with the wrong object id, or holds no SMTP.SendAsApp for the mailbox.",
    remedy:
      "In Exchange Online PowerShell register the app's service principal with the object id of the Enterprise Application (Entra admin center → Enterprise applications → the app → Object ID; not the App registration's object id): New-ServicePrincipal -AppId <application id> -ObjectId <enterprise application object id> (if one exists with another object id, Remove-ServicePrincipal it first). Then let it send as the mailbox, one of two ways: the application permission SMTP.SendAsApp (Office 365 Exchange Online) with admin consent and Add-MailboxPermission -Identity <mailbox> -User <service principal id> -AccessRights FullAccess; or RBAC for Applications, New-ManagementRoleAssignment -App <application id> -Role 'Application SMTP.SendAsApp' -CustomResourceScope <a management scope covering the mailbox>. Then retry the message.",
  },
  SMTP_NOT_AUTHENTICATED: {
    status: 409,
    kind: 'needs-admin',
    message: 'Exchange refused to send before a successful sign-in (530 5.7.57 Client not authenticated to send mail).',
    remedy:
      'Check that the account uses Modern Authentication with a Cloud Provider that has a sign-in for its modern authentication email, then retry the message.',
  },
  SMTP_SEND_AS_DENIED: {
    status: 409,
    kind: 'needs-admin',
    message:
      'Exchange refused the sender: the delegate has no Send As right on the shared mailbox (554 5.2.252 SendAsDenied).',
    remedy:
      'The delegate has no Send As right on the shared mailbox: grant it (Exchange admin center → the shared mailbox → Delegation → Send as, or Add-RecipientPermission <shared mailbox> -Trustee <delegate> -AccessRights SendAs); the change can take up to an hour to apply. Then retry the message.',
  },
  SMTP_SENDER_THROTTLED: {
    status: 429,
    kind: 'needs-admin',
    message:
      'Exchange throttled SMTP AUTH submissions of this mailbox after continuous errors of one kind (550 5.2.251–5.2.255 Sender throttled).',
    remedy:
      "Fix the cause the reply names — free mailbox space (5.2.251), grant Send As (5.2.252), assign an Exchange Online licence (5.2.253), send to fewer recipients per message (5.2.254), correct the recipient addresses (5.2.255) — and check other clients of the mailbox too. Exchange lifts the block by itself after a while; Postern holds the account's sending meanwhile instead of retrying into the block, then sends the queued messages.",
  },
  SMTP_QUOTA_EXCEEDED: {
    status: 409,
    kind: 'permanent',
    message:
      'Exchange refused the message: the mailbox reached its daily recipient limit (554 5.2.0 SubmissionQuotaExceeded).',
    remedy:
      "The mailbox has sent to 10,000 recipients in the last 24 hours (other clients count too, not only Postern). Lower the account's recipients per day if other clients share the mailbox, and retry the message once the rolling day frees room.",
  },
  SMTP_MAILBOX_FULL: {
    status: 409,
    kind: 'needs-admin',
    message:
      'Exchange refused the message because the mailbox is full (554 5.2.2 QuotaExceeded): its Sent Items copy cannot be saved.',
    remedy:
      'Free space in the mailbox (empty Deleted Items, archive Sent Items) or raise its quota, then retry the message.',
  },
  SMTP_MAILBOX_LOGON_FAILED: {
    status: 503,
    kind: 'transient',
    message: 'Exchange could not open the mailbox to submit the message (430 4.2.0 mailbox logon failure).',
    remedy:
      'Postern retries. If it persists with app-only access, give the service principal FullAccess on the mailbox (Add-MailboxPermission <mailbox> -User <service principal id> -AccessRights FullAccess).',
  },
  SMTP_CONCURRENCY_LIMIT: {
    status: 503,
    kind: 'transient',
    message:
      'Exchange refused a fourth concurrent submission for this mailbox (432 4.3.2 sender thread limit exceeded).',
    remedy:
      "Nothing to do: Postern retries. If it happens often, other clients submit from the same mailbox: lower the account's concurrent submissions.",
  },
  SMTP_RECIPIENT_REJECTED: {
    status: 422,
    kind: 'permanent',
    message: 'The server rejected the recipients (5.1.x): the address does not exist or cannot receive mail.',
    remedy: 'Check the recipient addresses, correct them and send a new message.',
  },
  SMTP_MESSAGE_TOO_LARGE: {
    status: 413,
    kind: 'permanent',
    message: 'The server refused the message as too large (552 5.3.4).',
    remedy:
      "The attachments are too big for this mailbox's send limit (Exchange Online: 35 MB by default, headers up to 256 KB; a mailbox's MaxSendSize can be lower than the size the server advertises). Send smaller attachments or share large files by link; or ask an Exchange administrator to raise the limit with Set-Mailbox <address> -MaxSendSize (at most 150MB), then retry the message.",
  },
  SMTP_MESSAGE_REJECTED: {
    status: 422,
    kind: 'permanent',
    message: 'The server permanently refused the message.',
    remedy:
      "Read the server's reply in the details; correct what it names and send a new message, or retry it if the cause was fixed on the server.",
  },
  SMTP_TEMPORARY_FAILURE: {
    status: 503,
    kind: 'transient',
    message: 'The server refused the message for now (4xx).',
    remedy: 'Nothing to do: Postern retries with growing delays.',
  },
  SMTP_CONNECTION_FAILED: {
    status: 503,
    kind: 'transient',
    message: 'The connection to the SMTP server failed or was dropped.',
    remedy:
      'Postern retries with growing delays. If it persists, check the SMTP host and port (smtp.office365.com:587 for Microsoft 365) and the network path to it.',
  },
  SMTP_TLS_FAILED: {
    status: 502,
    kind: 'needs-admin',
    message: 'The TLS connection to the SMTP server could not be established or its certificate was not trusted.',
    remedy:
      'Check the SMTP host (smtp.office365.com for Microsoft 365) and, for a private server, the CA certificate configured on the Cloud Provider. Then retry the message.',
  },
  SMTP_PROTOCOL_ERROR: {
    status: 502,
    kind: 'transient',
    message: 'The SMTP server answered something Postern did not expect.',
    remedy:
      "Postern retries. If it persists, read the server's reply in the details and check that the SMTP host is an SMTP submission server.",
  },
  OUTBOX_RETRIES_EXHAUSTED: {
    status: 409,
    kind: 'permanent',
    message: "The message could not be sent within the account's retry window.",
    remedy: 'Read the last error, fix its cause and retry the message.',
  },
  OUTBOX_OVER_DAILY_LIMIT: {
    status: 409,
    kind: 'permanent',
    message: 'The message has more recipients than the account may send to in a day, so it can never be sent.',
    remedy: "Raise the account's recipients per day, or split the message, then retry it.",
  },
  OUTBOX_NOT_RETRYABLE: {
    status: 409,
    kind: 'permanent',
    message: 'Only a failed or cancelled outgoing message can be retried.',
  },
  OUTBOX_NOT_CANCELLABLE: {
    status: 409,
    kind: 'permanent',
    message: 'Only a queued message can be cancelled: this one is being sent or was sent.',
  },
  SEND_ACCOUNT_DISABLED: {
    status: 409,
    kind: 'permanent',
    message: 'The email account is disabled: it sends no mail.',
    remedy: 'Enable the email account, then send again.',
  },
  SEND_IDEMPOTENCY_KEY_REUSED: {
    status: 422,
    kind: 'permanent',
    message: 'This Idempotency-Key was already used for a different request.',
    remedy: 'Use a new Idempotency-Key for each distinct message; repeat a key only to retry exactly the same request.',
  },
} as const satisfies Record<string, CatalogueEntry>;
