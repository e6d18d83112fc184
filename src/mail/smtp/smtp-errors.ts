/**
 * Translates what a submission server (Exchange Online's `smtp.office365.com:587`, through
 * nodemailer) answers into catalogue errors, with the reply in `details.response` and nodemailer's
 * error as `cause`. The enhanced status code decides (RFC 3463), then the reply code (RFC 5321
 * §4.2.1: 4yz transient, 5yz permanent), then nodemailer's error class for failures without a reply.
 *
 * @see ../../../../shared/reference/microsoft-protocols.md §5 (SMTP failure catalogue), §6 (shared mailboxes)
 * @see https://www.rfc-editor.org/rfc/rfc5321#section-4.2.1 (reply code severities)
 * @see https://www.rfc-editor.org/rfc/rfc3463 (enhanced status codes: 5.1.x addressing, 5.7.x security)
 * @see https://www.rfc-editor.org/rfc/rfc4954#section-6 (AUTH failure replies, 535)
 * @see https://learn.microsoft.com/exchange/mail-flow-best-practices/non-delivery-reports-in-exchange-online/non-delivery-reports-in-exchange-online
 */
import { PosternError, type ErrorCode } from '../../errors/index.js';

/** The facts of a failed submission, read from nodemailer's error. */
export interface SmtpFailureFacts {
  /** nodemailer's class: EAUTH, EENVELOPE, EMESSAGE, ECONNECTION, ETIMEDOUT, ESOCKET, ETLS, EPROTOCOL, EDNS… */
  readonly code: string | null;
  /** The system error under it (ECONNREFUSED, CERT_HAS_EXPIRED…), when nodemailer kept it. */
  readonly originalCode: string | null;
  readonly responseCode: number | null;
  /** The server's reply, as received. */
  readonly response: string | null;
  /** The command that failed: `AUTH XOAUTH2`, `MAIL FROM`, `RCPT TO`, `DATA`, `CONN`… */
  readonly command: string | null;
  /** Which wait ran out, for ETIMEDOUT: `CONNECT_TIMEOUT`, `GREETING_TIMEOUT`, `SOCKET_TIMEOUT`… */
  readonly timeoutType: string | null;
  readonly message: string;
}

/** Who was submitting what, for the error's details. */
export interface SmtpErrorContext {
  readonly host: string;
  /** The server's port: a network failure names the endpoint, host and port. */
  readonly port?: number;
  /** The SASL identity (`user=` of XOAUTH2): the delegate for a shared mailbox. */
  readonly login: string;
  /** MAIL FROM: the account's address. */
  readonly from: string;
  /**
   * Set when the sign-in is app-only (client credentials, `user=` the mailbox itself): a `535
   * 5.7.3` then means Exchange does not let the app in, not a wrong user. The ids, when known
   * (from the token), make the remedy exact.
   */
  readonly app?: AppSignIn;
}

/** Who an app-only SMTP sign-in is, for the remedy: the application (client) id and its service principal's object id (`oid`). */
export interface AppSignIn {
  readonly appId: string | null;
  readonly objectId: string | null;
}

/** Reads nodemailer's error fields without trusting their types. */
export function readSmtpFailure(error: unknown): SmtpFailureFacts {
  const field = (name: string): unknown =>
    typeof error === 'object' && error !== null && name in error ? Reflect.get(error, name) : undefined;
  const text = (name: string): string | null => {
    const value = field(name);
    return typeof value === 'string' && value !== '' ? value : null;
  };
  const response = text('response');
  const declared = field('responseCode');
  const responseCode = typeof declared === 'number' ? declared : response === null ? null : replyCodeOf(response);
  return {
    code: text('code'),
    originalCode: text('originalCode'),
    responseCode,
    response,
    command: text('command'),
    timeoutType: text('timeoutType'),
    message: error instanceof Error ? error.message : String(error),
  };
}

/** The three-digit reply code at the start of a reply, if any. */
export function replyCodeOf(response: string): number | null {
  const match = /^([2-5]\d\d)/.exec(response.trim());
  return match?.[1] === undefined ? null : Number(match[1]);
}

/** The enhanced status code (`5.7.139`) of a reply, if it has one. */
export function enhancedStatusOf(response: string | null): string | null {
  if (response === null) return null;
  const match = /^[2-5]\d\d[ -]([245]\.\d{1,3}\.\d{1,3})\b/.exec(response.trim());
  return match?.[1] ?? null;
}

const TLS_TROUBLE =
  /certificate|self[- ]signed|unable to verify|altname|hostname\/IP does not match|wrong version number|handshake/i;
/** Node's codes for a certificate it does not trust (from OpenSSL's verify errors). */
const CERTIFICATE_CODES =
  /^(?:DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_(?:VERIFY_LEAF_SIGNATURE|GET_ISSUER_CERT(?:_LOCALLY)?)|CERT_[A-Z_]+|ERR_TLS_CERT_ALTNAME_INVALID|HOSTNAME_MISMATCH)$/;

/**
 * The catalogue error for a failed submission.
 *
 * @see ../../../../shared/reference/microsoft-protocols.md §5 for each Exchange reply named below
 */
export function mapSmtpError(error: unknown, context: SmtpErrorContext): PosternError {
  const facts = readSmtpFailure(error);
  const status = enhancedStatusOf(facts.response);
  const { code, message, remedy } = classify(facts, status, context);
  return new PosternError(code, {
    ...(message === undefined ? {} : { message }),
    ...(remedy === undefined ? {} : { remedy }),
    details: {
      host: context.host,
      ...(context.port === undefined ? {} : { port: context.port }),
      login: context.login,
      from: context.from,
      ...(facts.response === null ? {} : { response: facts.response }),
      ...(facts.responseCode === null ? {} : { responseCode: facts.responseCode }),
      ...(status === null ? {} : { enhancedStatus: status }),
      ...(facts.command === null ? {} : { command: facts.command }),
      ...(facts.code === null ? {} : { smtpError: facts.code }),
    },
    cause: error,
  });
}

interface Classification {
  readonly code: ErrorCode;
  readonly message?: string;
  readonly remedy?: string;
}

function classify(facts: SmtpFailureFacts, status: string | null, context: SmtpErrorContext): Classification {
  const reply = facts.response ?? '';
  const replyCode = facts.responseCode;
  if (status === '5.7.139') return authDisabled(reply);
  if (replyCode === 535 || (facts.code === 'EAUTH' && replyCode !== null && replyCode >= 500)) {
    if (context.app !== undefined)
      return {
        code: 'SMTP_APP_NOT_REGISTERED',
        message: `Exchange refused the app-only SMTP sign-in as ${context.login} (${shortReply(reply) || '535 5.7.3 Authentication unsuccessful'}): the app's service principal is not registered in Exchange Online, is registered with the wrong object id, or holds no SMTP.SendAsApp for ${context.login}.`,
        remedy: appSmtpRemedy(context.app, context.login),
      };
    return {
      code: 'SMTP_AUTH_FAILED',
      message: `Exchange refused the SMTP sign-in of ${context.login} with the access token (${shortReply(reply) || '535 5.7.3 Authentication unsuccessful'}).`,
    };
  }
  if (status === '5.7.57' || replyCode === 530) return { code: 'SMTP_NOT_AUTHENTICATED' };
  const throttled = senderThrottled(status, reply, context);
  if (throttled !== undefined) return throttled;
  if (status === '5.2.252' || /SendAsDenied/i.test(reply) || status === '5.7.60') {
    return {
      code: 'SMTP_SEND_AS_DENIED',
      message: `Exchange refused to let ${context.login} send as ${context.from}: the delegate has no Send As right on the shared mailbox (554 5.2.252 SendAsDenied).`,
      remedy: `The delegate has no Send As right on the shared mailbox: grant ${context.login} Send As on ${context.from} (Exchange admin center → the shared mailbox → Delegation → Send as, or Add-RecipientPermission ${context.from} -Trustee ${context.login} -AccessRights SendAs); it can take up to an hour to apply. Then retry the message.`,
    };
  }
  if (/SubmissionQuotaExceeded/i.test(reply)) return { code: 'SMTP_QUOTA_EXCEEDED' };
  if (/QuotaExceeded|mailbox full/i.test(reply) || status === '5.2.2') return { code: 'SMTP_MAILBOX_FULL' };
  if (/mailbox logon failure|MapiExceptionLogonFailed/i.test(reply) || (replyCode === 430 && status === '4.2.0'))
    return { code: 'SMTP_MAILBOX_LOGON_FAILED' };
  if (/sender thread limit/i.test(reply) || (replyCode === 432 && status === '4.3.2' && /STOREDRV/i.test(reply)))
    return { code: 'SMTP_CONCURRENCY_LIMIT' };
  if (
    replyCode === 552 ||
    status === '5.3.4' ||
    /MaxSubmissionExceeded/i.test(reply) ||
    (facts.code === 'EMESSAGE' && /larger than allowed/i.test(facts.message))
  )
    return messageTooLarge(reply, context);
  if (replyCode !== null && replyCode >= 500 && (status?.startsWith('5.1.') === true || facts.command === 'RCPT TO')) {
    return { code: 'SMTP_RECIPIENT_REJECTED', message: `The server rejected the recipients: ${shortReply(reply)}.` };
  }
  if (replyCode !== null && replyCode >= 500)
    return {
      code: 'SMTP_MESSAGE_REJECTED',
      message: `The server permanently refused the message: ${shortReply(reply)}.`,
    };
  if (replyCode !== null && replyCode >= 400)
    return { code: 'SMTP_TEMPORARY_FAILURE', message: `The server refused the message for now: ${shortReply(reply)}.` };
  const untrusted = facts.originalCode !== null && CERTIFICATE_CODES.test(facts.originalCode);
  if (facts.code === 'ETLS' || untrusted) {
    if (untrusted || TLS_TROUBLE.test(facts.message)) {
      return { code: 'SMTP_TLS_FAILED', message: `The TLS connection to ${context.host} failed: ${facts.message}.` };
    }
    return {
      code: 'SMTP_CONNECTION_FAILED',
      message: `The TLS connection to ${context.host} was interrupted: ${facts.message}.`,
    };
  }
  if (facts.code === 'EPROTOCOL')
    return { code: 'SMTP_PROTOCOL_ERROR', message: `${context.host} answered unexpectedly: ${facts.message}.` };
  return { code: 'SMTP_CONNECTION_FAILED', message: networkMessage(facts, context) };
}

/**
 * What went wrong on the way to the server, naming the endpoint (host and port) and the cause —
 * the name, the port or the path — so that the outbox, the timeline and the doctor say which
 * server failed and how.
 */
function networkMessage(facts: SmtpFailureFacts, context: SmtpErrorContext): string {
  const endpoint = context.port === undefined ? context.host : `${context.host}:${context.port}`;
  const system = facts.originalCode ?? '';
  if (facts.code === 'EDNS' || system === 'ENOTFOUND' || system === 'EAI_AGAIN')
    return `The SMTP server ${endpoint} could not be reached: its name could not be resolved (DNS ${system || facts.code}).`;
  if (system === 'ECONNREFUSED')
    return `The connection to the SMTP server ${endpoint} was refused: nothing accepts connections on that port there.`;
  if (facts.code === 'ETIMEDOUT' || system === 'ETIMEDOUT')
    return `The SMTP server ${endpoint} did not answer in time (${facts.timeoutType ?? (system || 'ETIMEDOUT')}: ${facts.message}): the connection hangs somewhere on the way or at the server.`;
  if (system === 'EHOSTUNREACH' || system === 'ENETUNREACH')
    return `The SMTP server ${endpoint} could not be reached: there is no network route to it (${system}).`;
  return `The connection to the SMTP server ${endpoint} failed or was dropped: ${facts.message}.`;
}

/**
 * Exchange Online's continuous-error throttling of SMTP AUTH submissions: after too many Send As,
 * mailbox-full, licence or recipient errors it answers every submission of the mailbox with
 * `550 5.2.25x Sender throttled due to continuous … errors.` for a while. Told apart from the
 * ordinary `554 5.2.252 SendAsDenied` by the words "Sender throttled".
 *
 * @see https://learn.microsoft.com/exchange/mail-flow-best-practices/continuous-error-throttling-smtp-auth-submissions
 */
const SENDER_THROTTLE_CAUSES: Readonly<
  Record<string, { readonly cause: string; readonly fix: (c: SmtpErrorContext) => string }>
> = {
  '5.2.251': {
    cause: 'the mailbox is full',
    fix: (c) => `Free space in ${c.from} (empty Deleted Items, archive Sent Items) or raise its quota`,
  },
  '5.2.252': {
    cause: 'Send As was denied',
    fix: (c) =>
      c.login.toLowerCase() === c.from.toLowerCase()
        ? `Check that every client of ${c.from} sends with its own address, or grant Send As for the addresses it uses`
        : `Grant ${c.login} Send As on ${c.from} (Exchange admin center → the mailbox → Delegation → Send as, or Add-RecipientPermission ${c.from} -Trustee ${c.login} -AccessRights SendAs)`,
  },
  '5.2.253': {
    cause: 'the mailbox has no valid licence',
    fix: (c) => `Assign ${c.login} an Exchange Online licence (Microsoft 365 admin center → Users → Licenses and apps)`,
  },
  '5.2.254': {
    cause: 'messages had too many recipients',
    fix: () =>
      "Send to fewer recipients per message (Exchange allows 500; lower the account's recipients per message) and check the mailbox's other clients",
  },
  '5.2.255': {
    cause: 'messages had invalid recipients',
    fix: () => "Correct or remove the recipient addresses that do not exist, here and in the mailbox's other clients",
  },
};

function senderThrottled(status: string | null, reply: string, context: SmtpErrorContext): Classification | undefined {
  const known = status === null ? undefined : SENDER_THROTTLE_CAUSES[status];
  if (known === undefined || !/Sender throttled/i.test(reply)) return undefined;
  return {
    code: 'SMTP_SENDER_THROTTLED',
    message: `Exchange blocks SMTP AUTH submissions of ${context.login} for a while because of continuous errors: ${known.cause} (${shortReply(reply)}).`,
    remedy: `${known.fix(context)}. Exchange lifts the block by itself after a while; Postern holds the account's sending meanwhile instead of retrying into the block, then sends the queued messages.`,
  };
}

function authDisabled(reply: string): Classification {
  if (/disabled for the Tenant/i.test(reply)) {
    return {
      code: 'SMTP_AUTH_DISABLED',
      message:
        'Exchange refused the SMTP sign-in: SMTP AUTH (SmtpClientAuthentication) is disabled for the tenant (535 5.7.139).',
    };
  }
  if (/security defaults/i.test(reply)) {
    return {
      code: 'SMTP_AUTH_DISABLED',
      message:
        "Exchange refused the SMTP sign-in: the user is locked by the organization's security defaults policy (535 5.7.139).",
      remedy:
        'Security defaults block authenticated SMTP: turn security defaults off in Microsoft Entra ID (and protect sign-ins with Conditional Access instead), or use the Graph transport. Then retry the message.',
    };
  }
  if (/basic authentication is disabled/i.test(reply)) {
    return {
      code: 'SMTP_AUTH_DISABLED',
      message: 'Exchange refused a username and password sign-in: basic authentication is disabled (535 5.7.139).',
      remedy:
        'Microsoft 365 accepts only Modern Authentication for SMTP: turn Modern Authentication on for the account and choose its Cloud Provider. Then retry the message.',
    };
  }
  return {
    code: 'SMTP_AUTH_DISABLED',
    message:
      'Exchange refused the SMTP sign-in: SMTP AUTH is disabled for this mailbox, or a policy blocks it (535 5.7.139).',
  };
}

/**
 * What lets an app sign in to SMTP AUTH as a mailbox, with the ids where they are known: the
 * Exchange service principal registered under the Enterprise application's object id (the token's
 * `oid`), then either the SMTP.SendAsApp permission with FullAccess on the mailbox, or an RBAC for
 * Applications assignment of `Application SMTP.SendAsApp` whose scope covers it.
 *
 * @see ../../../../shared/reference/microsoft-protocols.md §6 (app-only IMAP/POP/SMTP, [SMTPRBAC])
 * @see https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth
 */
export function appSmtpRemedy(app: AppSignIn, mailbox: string): string {
  const appId = app.appId ?? '<application id>';
  const objectId = app.objectId ?? '<enterprise application object id>';
  return `In Exchange Online PowerShell register the app's service principal with the Enterprise Application's object id (Entra admin center → Enterprise applications → the app → Object ID${app.objectId === null ? '' : `, the token's oid`}; not the App registration's object id): New-ServicePrincipal -AppId ${appId} -ObjectId ${objectId} (if one exists with another object id, Remove-ServicePrincipal it first). Then let it send as ${mailbox}, one of two ways: the application permission SMTP.SendAsApp (Office 365 Exchange Online) with admin consent and Add-MailboxPermission -Identity ${mailbox} -User ${objectId} -AccessRights FullAccess; or RBAC for Applications, New-ManagementRoleAssignment -App ${appId} -Role 'Application SMTP.SendAsApp' -CustomResourceScope <a management scope whose recipient filter includes ${mailbox}>. Then retry the message.`;
}

/**
 * A message over a size limit. Exchange advertises one organisation-wide SIZE in EHLO, but the
 * sending mailbox's own MaxSendSize can be lower: the refusal then comes after DATA, as
 * `552 5.3.4 Message size exceeds fixed maximum message size` (or the store driver's
 * `MapiExceptionMaxSubmissionExceeded`). Retrying cannot help; the remedy names the cmdlet.
 * @see https://learn.microsoft.com/powershell/module/exchange/set-mailbox#-maxsendsize
 */
function messageTooLarge(reply: string, context: SmtpErrorContext): Classification {
  const mailboxes =
    context.login.toLowerCase() === context.from.toLowerCase() ? [context.from] : [context.from, context.login];
  const quoted = shortReply(reply);
  return {
    code: 'SMTP_MESSAGE_TOO_LARGE',
    message: `The server refused the message from ${context.from} as larger than allowed${quoted === '' ? '' : ` (${quoted})`}: its attachments are too big for this mailbox's limit.`,
    remedy: `The attachments are too big for the send limit of ${mailboxes.join(' or ')} (Exchange Online: 35 MB by default; a mailbox's MaxSendSize can be lower than the size the server advertises). Send smaller attachments or share large files by link, then send a new message; or ask an Exchange administrator to raise the limit (Set-Mailbox ${context.from} -MaxSendSize 50MB, at most 150MB) and retry the message.`,
  };
}

/** The reply without Exchange's bracketed diagnostic tail, for messages. */
function shortReply(reply: string): string {
  // Found by position rather than by `\s*\[…[^\]]*\].*$`, which rescans the rest from every start.
  const tail = reply.search(/\[(?:Hostname=|BeginDiagnosticData)/);
  return (tail !== -1 && reply.includes(']', tail) ? reply.slice(0, tail) : reply).trim();
}
