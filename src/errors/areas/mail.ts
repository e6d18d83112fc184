import type { CatalogueEntry } from '../catalogue.js';

/**
 * Errors of reading a mailbox (IMAP on Exchange Online) and of storing what was read. The IMAP
 * adapter (src/mail/imap/imap-errors.ts) maps Exchange's `NO`/`BAD`/`BYE` texts to these; the
 * server's words travel in `details.response`.
 *
 * @see ../../../../shared/reference/microsoft-protocols.md §5 (Exchange IMAP replies), §6 (shared mailboxes), §9
 * @see https://www.rfc-editor.org/rfc/rfc3501#section-7.1 (status responses)
 */
export const MAIL_ERRORS = {
  IMAP_AUTH_FAILED: {
    status: 409,
    kind: 'needs-admin',
    message: 'Exchange refused to sign in to the mailbox with the access token (NO AUTHENTICATE failed.).',
    remedy:
      "Check that the Cloud Provider is authenticated as the account's modern authentication email, that its scopes include https://outlook.office.com/IMAP.AccessAsUser.All (authenticate the provider again after adding it), and that the username is the mailbox's address. For app-only access, the service principal needs FullAccess on the mailbox.",
  },
  IMAP_APP_NOT_REGISTERED: {
    status: 409,
    kind: 'needs-admin',
    message:
      "Exchange refused the app-only token (NO AUTHENTICATE failed.): the app's service principal is not registered in Exchange Online, or is registered with the wrong object id (or the token lacks IMAP.AccessAsApp).",
    remedy:
      "Run Postern's doctor on the account: it shows the token's roles and the object id to use. In Exchange Online PowerShell register the service principal with the object id of the Enterprise Application (Entra admin center → Enterprise applications → the app → Object ID; not the App registration's object id): New-ServicePrincipal -AppId <application id> -ObjectId <enterprise application object id>; then give it the mailbox: Add-MailboxPermission -Identity <mailbox> -User <service principal id> -AccessRights FullAccess. If it was registered with the wrong id, remove it first (Remove-ServicePrincipal).",
  },
  IMAP_LOGIN_FAILED: {
    status: 409,
    kind: 'needs-admin',
    message: "The IMAP server refused the account's username and password.",
    remedy:
      'Check the username and the password of the email account (edit the account to set a new password). Servers with two-step verification often want an app password instead of the usual one. A Microsoft 365 mailbox never accepts a password: turn Modern Authentication on and choose a Cloud Provider.',
  },
  IMAP_NOT_CONNECTED: {
    status: 409,
    kind: 'needs-admin',
    message: 'Exchange accepted the sign-in but did not open the mailbox (User is authenticated but not connected.).',
    remedy:
      "Check, in this order: 1) IMAP is enabled for the mailbox (Exchange admin center → the mailbox → Manage email apps, or Set-CASMailbox <mailbox> -ImapEnabled $true); 2) for a shared mailbox, the modern authentication email (the delegate) has FullAccess on it (Add-MailboxPermission <shared> -User <delegate> -AccessRights FullAccess); 3) the username is the mailbox's own address and the provider was authenticated as the delegate, not as a tenant administrator. If all three hold, too many connections were opened in a short time: wait a few minutes.",
  },
  IMAP_THROTTLED: {
    status: 503,
    kind: 'transient',
    message: 'Exchange is throttling this mailbox (Request is throttled.).',
    remedy: 'Nothing to do: Postern waits for the back-off time Exchange suggested and continues.',
  },
  IMAP_TOKEN_EXPIRED: {
    status: 503,
    kind: 'transient',
    message:
      'Exchange ended the IMAP session because its access token expired (Session invalidated - AccessTokenExpired).',
    remedy:
      'Nothing to do: Postern reconnects with a fresh token. If it happens often, check the clocks of this server.',
  },
  IMAP_CONNECTION_FAILED: {
    status: 503,
    kind: 'transient',
    message: 'The connection to the IMAP server failed or was dropped.',
    remedy:
      'Postern reconnects by itself with growing delays. If it persists, check the host, the port and the network path to it.',
  },
  IMAP_TLS_FAILED: {
    status: 502,
    kind: 'needs-admin',
    message: 'The TLS connection to the IMAP server could not be established or its certificate was not trusted.',
    remedy:
      'Check the IMAP host and port (outlook.office365.com:993 for Microsoft 365) and, for a private server, the CA certificate configured for it.',
  },
  IMAP_SERVER_UNAVAILABLE: {
    status: 503,
    kind: 'transient',
    message: 'The IMAP server answered that it is unavailable.',
    remedy: 'Nothing to do: Postern tries again later.',
  },
  IMAP_FOLDER_NOT_FOUND: {
    status: 409,
    kind: 'needs-admin',
    message: 'The folder to read does not exist in the mailbox.',
    remedy:
      'Correct the account\'s folder (INBOX by default; folder names are as Outlook shows them, with "/" between levels).',
  },
  IMAP_COMMAND_FAILED: {
    status: 502,
    kind: 'transient',
    message: 'The IMAP server refused a command.',
    remedy:
      "Postern tries again later. If it persists, read the server's reply in the details and the email-error log.",
  },
  INGEST_WRITE_CONTENDED: {
    status: 503,
    kind: 'transient',
    message:
      'Storing a group of messages met another writer storing the same messages or senders three times in a row; nothing of the group was stored.',
    remedy:
      "Nothing is lost: the mailbox's checkpoint did not move, and Postern reads these messages again at its next round. It repeats only when several processes store the same mailbox at once: make sure each mailbox is read by one Postern — on SQLite one process with the worker role, on PostgreSQL nodes of one cluster, which share the mailboxes by lease.",
  },
  INGEST_MESSAGE_OVERSIZE: {
    status: 413,
    kind: 'permanent',
    message: "A message is larger than the account's maximum message size; only its header was stored.",
    remedy:
      'The message was moved to the "Postern Oversize" folder. Read it in Outlook, or raise the account\'s maximum message size and move it back to the inbox.',
  },
} as const satisfies Record<string, CatalogueEntry>;
