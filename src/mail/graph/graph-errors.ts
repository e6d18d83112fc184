/**
 * Microsoft Graph's answers as catalogue errors: the HTTP status and the `error.code` of the body
 * decide the code; Graph's own code, message and request-id go in `details`, so that the doctor
 * and the timeline can quote them.
 *
 * @see https://learn.microsoft.com/graph/errors
 * @see ../../../../shared/reference/microsoft-protocols.md §7 (throttling), §8 (errors of mail calls)
 */
import { PosternError, type ErrorCode } from '../../errors/index.js';

/** What a Graph error body says (`{"error":{"code","message","innerError":{"request-id"}}}`). */
export interface GraphFailure {
  readonly status: number;
  readonly graphCode: string | null;
  readonly graphMessage: string | null;
  readonly requestId: string | null;
  /** Retry-After in milliseconds, when the answer gave one. */
  readonly retryAfterMs: number | null;
}

/** Longest Graph message quoted in an error (the body is the server's; it is cut, not trusted). */
const MAX_QUOTED = 300;

/** Reads Graph's error body (already parsed JSON, or anything else) into a failure. */
export function graphFailureOf(
  status: number,
  body: unknown,
  headers: { get(name: string): string | null },
): GraphFailure {
  const error = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined;
  const fields = typeof error === 'object' && error !== null ? (error as Record<string, unknown>) : {};
  const inner = typeof fields.innerError === 'object' && fields.innerError !== null ? fields.innerError : {};
  const requestId = (inner as Record<string, unknown>)['request-id'] ?? headers.get('request-id');
  return {
    status,
    graphCode: typeof fields.code === 'string' ? fields.code.slice(0, 100) : null,
    graphMessage: typeof fields.message === 'string' ? fields.message.slice(0, MAX_QUOTED) : null,
    requestId: typeof requestId === 'string' ? requestId.slice(0, 100) : null,
    retryAfterMs: retryAfterMs(headers.get('retry-after')),
  };
}

/** `Retry-After` as delay-seconds (Graph's form), in milliseconds; null when absent or not a number. */
export function retryAfterMs(value: string | null): number | null {
  if (value === null) return null;
  const trimmed = value.trim();
  if (trimmed.length === 0 || trimmed.length > 10) return null;
  for (let i = 0; i < trimmed.length; i += 1) {
    const c = trimmed.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return null;
  }
  return Number(trimmed) * 1000;
}

/** What the request was, for the message: "reading", "sending". */
export type GraphPurpose = 'read' | 'send';

/** The catalogue error for a failed Graph answer. */
export function mapGraphFailure(
  failure: GraphFailure,
  context: { mailbox: string; purpose: GraphPurpose },
): PosternError {
  const code = codeOf(failure, context.purpose);
  const quoted =
    failure.graphCode === null
      ? `HTTP ${failure.status}`
      : `${failure.status} ${failure.graphCode}${failure.graphMessage === null ? '' : `: ${failure.graphMessage}`}`;
  return new PosternError(code, {
    message: `${messageOf(code)} Graph answered ${quoted} (mailbox ${context.mailbox}).`,
    ...(code === 'GRAPH_MESSAGE_TOO_LARGE' && context.purpose === 'send'
      ? { remedy: sendTooLargeRemedy(context.mailbox) }
      : {}),
    details: {
      mailbox: context.mailbox,
      status: failure.status,
      response: quoted,
      ...(failure.graphCode === null ? {} : { graphCode: failure.graphCode }),
      ...(failure.requestId === null ? {} : { requestId: failure.requestId }),
      ...(failure.retryAfterMs === null ? {} : { retryAfterMs: failure.retryAfterMs }),
    },
  });
}

function codeOf(failure: GraphFailure, purpose: GraphPurpose): ErrorCode {
  const graphCode = failure.graphCode ?? '';
  if (failure.status === 429) return 'GRAPH_THROTTLED';
  if (failure.status >= 500) return 'GRAPH_UNAVAILABLE';
  if (failure.status === 401) return 'GRAPH_AUTH_FAILED';
  if (failure.status === 410 || graphCode === 'SyncStateNotFound' || graphCode === 'SyncStateInvalid')
    return 'GRAPH_DELTA_EXPIRED';
  if (graphCode === 'ErrorSendAsDenied') return 'GRAPH_SEND_AS_DENIED';
  if (graphCode === 'ErrorSubmissionQuotaExceeded') return 'GRAPH_QUOTA_EXCEEDED';
  if (failure.status === 413 || graphCode === 'ErrorMessageSizeExceeded' || graphCode === 'RequestEntityTooLarge')
    return 'GRAPH_MESSAGE_TOO_LARGE';
  if (
    graphCode === 'ErrorInvalidUser' ||
    graphCode === 'MailboxNotEnabledForRESTAPI' ||
    graphCode === 'MailboxNotSupportedForRESTAPI' ||
    graphCode === 'Request_ResourceNotFound' ||
    graphCode === 'ResourceNotFound'
  )
    return 'GRAPH_MAILBOX_NOT_FOUND';
  if (failure.status === 403) return 'GRAPH_ACCESS_DENIED';
  if (purpose === 'send' && failure.status === 400) return 'GRAPH_MESSAGE_REJECTED';
  return 'GRAPH_REQUEST_FAILED';
}

function messageOf(code: ErrorCode): string {
  switch (code) {
    case 'GRAPH_THROTTLED':
      return 'Microsoft Graph is throttling requests for this mailbox.';
    case 'GRAPH_UNAVAILABLE':
      return 'Microsoft Graph is unavailable for now.';
    case 'GRAPH_AUTH_FAILED':
      return 'Microsoft Graph refused the access token.';
    case 'GRAPH_DELTA_EXPIRED':
      return "Microsoft Graph no longer knows the folder's sync state.";
    case 'GRAPH_SEND_AS_DENIED':
      return 'Microsoft Graph refused the sender: the signed-in user may not send as this mailbox.';
    case 'GRAPH_QUOTA_EXCEEDED':
      return 'Microsoft Graph refused the message: the mailbox reached its daily recipient limit.';
    case 'GRAPH_MESSAGE_TOO_LARGE':
      return 'Microsoft Graph refused the message as too large.';
    case 'GRAPH_MAILBOX_NOT_FOUND':
      return 'Microsoft Graph does not know this mailbox, or it cannot be reached through Graph.';
    case 'GRAPH_ACCESS_DENIED':
      return 'Microsoft Graph denied access to the mailbox.';
    case 'GRAPH_MESSAGE_REJECTED':
      return 'Microsoft Graph refused the message.';
    default:
      return 'Microsoft Graph refused a request.';
  }
}

/**
 * A message refused as too large on sending (`ErrorMessageSizeExceeded`): over the mailbox's
 * MaxSendSize, which can be lower than the organisation's limit.
 * @see https://learn.microsoft.com/powershell/module/exchange/set-mailbox#-maxsendsize
 */
function sendTooLargeRemedy(mailbox: string): string {
  return `The attachments are too big for the send limit of ${mailbox} (Exchange Online: 35 MB by default; a mailbox's MaxSendSize can be lower). Send smaller attachments or share large files by link, then send a new message; or ask an Exchange administrator to raise the limit (Set-Mailbox ${mailbox} -MaxSendSize 50MB, at most 150MB) and retry the message.`;
}

/** A network-level failure (no HTTP answer) as a catalogue error: TLS trust, or the connection. */
export function mapGraphNetworkError(error: unknown, context: { mailbox: string; host: string }): PosternError {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : '';
  const name = error instanceof Error ? error.name : '';
  const tls =
    code.startsWith('ERR_TLS') ||
    code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' ||
    code === 'SELF_SIGNED_CERT_IN_CHAIN' ||
    code === 'DEPTH_ZERO_SELF_SIGNED_CERT' ||
    code === 'CERT_HAS_EXPIRED' ||
    code === 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY';
  const timedOut = name === 'TimeoutError' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT';
  const reason = timedOut ? 'timed out' : code.length > 0 ? code : error instanceof Error ? error.message : 'failed';
  return new PosternError(tls ? 'GRAPH_TLS_FAILED' : 'GRAPH_CONNECTION_FAILED', {
    message: tls
      ? `The TLS connection to Microsoft Graph at ${context.host} was refused: ${reason}.`
      : `The connection to Microsoft Graph at ${context.host} failed: ${reason} (mailbox ${context.mailbox}).`,
    details: { mailbox: context.mailbox, host: context.host, ...(code.length > 0 ? { errno: code } : {}) },
    cause: error,
  });
}
