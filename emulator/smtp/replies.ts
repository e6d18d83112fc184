/**
 * Exchange Online's SMTP submission reply texts (`smtp.office365.com:587`), word for word where
 * the reference records them. A test asserts each one on the wire.
 *
 * @see ../../../shared/reference/microsoft-protocols.md §5 (transcript and failure catalogue)
 * @see https://learn.microsoft.com/exchange/troubleshoot/send-emails/smtp-submission-improvements
 * @see https://learn.microsoft.com/exchange/mail-flow-best-practices/continuous-error-throttling-smtp-auth-submissions
 */

/** `Sun, 23 Nov 2025 11:12:20 +0000`, the date form of Exchange's greeting. */
function greetingDate(epochMs: number): string {
  return new Date(epochMs).toUTCString().replace('GMT', '+0000');
}

/** Exchange's diagnostic id: 16 upper-case hex digits. */
function diagnosticId(): string {
  return Array.from({ length: 16 }, () => '0123456789ABCDEF'[Math.floor(Math.random() * 16)]).join('');
}

export const SMTP_REPLY = {
  greeting: (host: string, epochMs: number): string =>
    `${host} Microsoft ESMTP MAIL Service ready at ${greetingDate(epochMs)} [${diagnosticId()}]`,
  hello: (host: string, clientIp: string): string => `${host} Hello [${clientIp}]`,
  startTls: '2.0.0 SMTP server ready',
  authenticated: '2.7.0 Authentication successful',
  authFailed: (host: string, epochMs: number): string =>
    `5.7.3 Authentication unsuccessful [${host} ${new Date(epochMs).toISOString()} ${diagnosticId()}]`,
  smtpAuthDisabledTenant: (host: string): string =>
    `5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. [${host}]`,
  smtpAuthDisabledMailbox:
    '5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated successfully. Contact your administrator.',
  basicAuthDisabled: '5.7.139 Authentication unsuccessful, basic authentication is disabled.',
  unrecognizedAuthType: '5.7.4 Unrecognized authentication type',
  notAuthenticated: '5.7.57 Client not authenticated to send mail',
  senderOk: '2.1.0 Sender OK',
  recipientOk: '2.1.5 Recipient OK',
  startMailInput: 'Start mail input; end with <CRLF>.<CRLF>',
  queued: (messageId: string, host: string): string => `2.0.0 OK ${messageId} [Hostname=${host}]`,
  reset: '2.0.0 Resetting',
  ok: '2.0.0 OK',
  closing: '2.0.0 Service closing transmission channel',
  unrecognizedCommand: '5.3.3 Unrecognized command',
  sendHelloFirst: '5.5.2 Send hello first',
  needMail: '5.5.2 Need mail command',
  needRcpt: '5.5.2 Need rcpt command',
  senderAlreadySpecified: '5.5.2 Sender already specified',
  invalidArguments: '5.5.4 Invalid arguments',
  tooManyRecipients: '4.5.3 Too many recipients',
  messageTooBig: '5.3.4 Message size exceeds fixed maximum message size',
  /** The store driver's refusal of a message over the mailbox's MaxSendSize, as SMTP AUTH clients report it (reply code 554). */
  maxSubmissionExceeded: (host: string): string =>
    `5.2.0 MapiExceptionMaxSubmissionExceeded; Message size exceeds maximum size limit.; STOREDRV.Submission.Exception:MessageSubmissionExceededException.MapiExceptionMaxSubmissionExceeded; Failed to process message due to a permanent exception with message [BeginDiagnosticData]Cannot save changes made to an item to store. [Hostname=${host}]`,
  senderThreadLimit: '4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded',
  sendAsDenied: (login: string, from: string, host: string): string =>
    `5.2.252 SendAsDenied; ${login} not allowed to send as ${from}; STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process message due to a permanent exception with message [BeginDiagnosticData]Cannot submit message.[EndDiagnosticData] [Hostname=${host}]`,
  /** The older wording of a Send As denial, still seen from some servers (reply code 550). */
  sendAsDeniedClient: (host: string): string =>
    `5.7.60 SMTP; Client does not have permissions to send as this sender [Hostname=${host}]`,
  /** The generic-status wording of a Send As denial (reply code 554). */
  sendAsDeniedStoreDriver: (host: string): string =>
    `5.2.0 STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process message due to a permanent exception with message Cannot submit message. [Hostname=${host}]`,
  submissionQuotaExceeded: (host: string): string =>
    `5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message due to a permanent exception with message [BeginDiagnosticData]Cannot submit message.[EndDiagnosticData] [Hostname=${host}]`,
  mailboxLogonFailure: (host: string): string =>
    `4.2.0 STOREDRV; mailbox logon failure; STOREDRV.Submission.Exception:ConnectionFailedTransientException.MapiExceptionLogonFailed; Failed to process message due to a transient exception with message Cannot open mailbox. [Hostname=${host}]`,
  /** Continuous-error throttling of SMTP AUTH submissions, word for word as Microsoft lists them. */
  senderThrottled: {
    'mailbox-full': '5.2.251 Sender throttled due to continuous mailbox full errors.',
    'send-as': '5.2.252 Sender throttled due to continuous send as denied errors.',
    license: '5.2.253 Sender throttled due to continuous invalid license errors.',
    'too-many-recipients': '5.2.254 Sender throttled due to continuous too many recipients errors.',
    'invalid-recipients': '5.2.255 Sender throttled due to continuous invalid recipients errors.',
  },
  serviceUnavailable: '4.3.2 Service not available, closing transmission channel',
} as const;

/**
 * The EHLO extension list: STARTTLS before TLS, `AUTH LOGIN XOAUTH2` in its place after (reference
 * §5); `AUTH LOGIN PLAIN XOAUTH2` while the emulator's basic authentication is on for SMTP.
 */
export function ehloExtensions(secure: boolean, basicAuth = false): string[] {
  return [
    'SIZE 157286400',
    'PIPELINING',
    'DSN',
    'ENHANCEDSTATUSCODES',
    secure ? (basicAuth ? 'AUTH LOGIN PLAIN XOAUTH2' : 'AUTH LOGIN XOAUTH2') : 'STARTTLS',
    '8BITMIME',
    'BINARYMIME',
    'CHUNKING',
    'SMTPUTF8',
  ];
}
