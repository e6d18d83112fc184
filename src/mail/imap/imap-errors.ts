/**
 * The IMAP adapter's edge: what imapflow throws (Exchange's tagged `NO`/`BAD` replies, `BYE`
 * reasons, socket and TLS failures) becomes a catalogue error with a remedy. Services branch on
 * the code and kind, never on the server's text.
 *
 * The original error is kept as `raw` (non-enumerable) only: imapflow errors may carry the
 * executed command, and for AUTHENTICATE that is the XOAUTH2 string with the access token.
 *
 * @see ../../../../shared/reference/microsoft-protocols.md §5 (Exchange replies) and §9
 * @see https://www.rfc-editor.org/rfc/rfc3501#section-7.1 (OK, NO, BAD, BYE)
 */
import { PosternError, isPosternError, type ErrorCode } from '../../errors/index.js';

/** What the error happened to, for details and messages. */
export interface ImapErrorContext {
  readonly host: string;
  /** The server's port: a network failure names the endpoint, host and port. */
  readonly port?: number;
  readonly user: string;
  readonly folder?: string;
  /**
   * How the session signs in; a refused password is not a refused token, and a refused app-only
   * token (`xoauth2-app`) usually means Exchange does not know the app's service principal.
   * Default XOAUTH2.
   */
  readonly method?: 'xoauth2' | 'xoauth2-app' | 'password';
}

/** The facts read from an imapflow error, all optional. */
interface ImapErrorFacts {
  readonly code: string | undefined;
  readonly responseText: string | undefined;
  readonly responseStatus: string | undefined;
  readonly serverResponseCode: string | undefined;
  readonly authenticationFailed: boolean;
  readonly tlsFailed: boolean;
  readonly mailboxMissing: boolean;
  readonly reason: string | undefined;
  readonly throttleReset: number | undefined;
  readonly throttleWaited: number | undefined;
  readonly message: string;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'NoConnection',
  'EConnectionClosed',
  'ClosedAfterConnectText',
  'ClosedAfterConnectTLS',
  'CONNECT_TIMEOUT',
  'GREETING_TIMEOUT',
  'UPGRADE_TIMEOUT',
  'ETIMEOUT',
  'StateLogout',
]);
const TLS_CODES =
  /^(CERT_|ERR_TLS_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT)/;

/**
 * Maps an error raised while talking IMAP to a catalogue error. A PosternError (from the token
 * provider, say) passes through unchanged.
 */
export function mapImapError(error: unknown, context: ImapErrorContext): PosternError {
  if (isPosternError(error)) return error;
  const facts = readFacts(error);
  const text = [facts.responseText, facts.reason, facts.message]
    .filter((part) => part !== undefined && part !== '')
    .join(' | ');
  const make = (code: ErrorCode, extra: Record<string, unknown> = {}, message?: string): PosternError =>
    new PosternError(code, {
      ...(message === undefined ? {} : { message }),
      details: {
        host: context.host,
        user: context.user,
        ...(context.folder === undefined ? {} : { folder: context.folder }),
        ...(facts.responseText === undefined
          ? {}
          : { response: `${facts.responseStatus ?? ''} ${facts.responseText}`.trim() }),
        ...(facts.reason === undefined ? {} : { bye: facts.reason }),
        ...(facts.code === undefined ? {} : { imapCode: facts.code }),
        ...extra,
      },
      cause: new Error(describe(facts)),
      raw: error,
    });

  if (/AccessTokenExpired/i.test(text)) return make('IMAP_TOKEN_EXPIRED');
  if (/authenticated but not connected/i.test(text)) return make('IMAP_NOT_CONNECTED');
  if (facts.code === 'ETHROTTLE' || /Request is throttled/i.test(text)) {
    const suggestedMs = facts.throttleReset ?? Number(/Backoff Time[:=\s]+(\d+)/i.exec(text)?.[1] ?? 0);
    const remainingMs = Math.max(0, suggestedMs - (facts.throttleWaited ?? 0));
    return make('IMAP_THROTTLED', { suggestedBackoffMs: suggestedMs, backoffMs: remainingMs });
  }
  if (
    facts.authenticationFailed ||
    facts.serverResponseCode === 'AUTHENTICATIONFAILED' ||
    /AUTHENTICATE failed|LOGIN failed/i.test(text)
  ) {
    return make(
      context.method === 'password'
        ? 'IMAP_LOGIN_FAILED'
        : context.method === 'xoauth2-app'
          ? 'IMAP_APP_NOT_REGISTERED'
          : 'IMAP_AUTH_FAILED',
    );
  }
  if (facts.tlsFailed || (facts.code !== undefined && TLS_CODES.test(facts.code))) return make('IMAP_TLS_FAILED');
  if (/Server Unavailable/i.test(text)) return make('IMAP_SERVER_UNAVAILABLE');
  if (facts.mailboxMissing || /doesn't exist|does not exist|NONEXISTENT/i.test(text)) {
    return make(
      'IMAP_FOLDER_NOT_FOUND',
      {},
      `The folder "${context.folder ?? '?'}" does not exist in the mailbox ${context.user}.`,
    );
  }
  if (facts.code !== undefined && (NETWORK_CODES.has(facts.code) || facts.code.startsWith('ParserError')))
    return make('IMAP_CONNECTION_FAILED', {}, networkMessage(facts.code, context));
  if (facts.responseStatus === 'NO' || facts.responseStatus === 'BAD') return make('IMAP_COMMAND_FAILED');
  if (facts.code !== undefined || /connection|socket|closed/i.test(facts.message))
    return make('IMAP_CONNECTION_FAILED');
  return new PosternError('INTERNAL', { cause: error });
}

/**
 * What went wrong on the way to the server, naming the endpoint: whoever reads the account's
 * status or the doctor must see which host and port failed, and whether the name, the port or
 * the path is at fault.
 */
function networkMessage(code: string, context: ImapErrorContext): string {
  const endpoint = context.port === undefined ? context.host : `${context.host}:${context.port}`;
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `The IMAP server ${endpoint} could not be reached: its name could not be resolved (DNS ${code}).`;
    case 'ECONNREFUSED':
      return `The connection to the IMAP server ${endpoint} was refused: nothing accepts connections on that port there.`;
    case 'ETIMEDOUT':
    case 'CONNECT_TIMEOUT':
    case 'GREETING_TIMEOUT':
    case 'UPGRADE_TIMEOUT':
      return `The IMAP server ${endpoint} did not answer in time (${code}): the connection hangs somewhere on the way or at the server.`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `The IMAP server ${endpoint} could not be reached: there is no network route to it (${code}).`;
    default:
      return `The connection to the IMAP server ${endpoint} failed or was dropped (${code}).`;
  }
}

/** True for errors after which the connection cannot be used any more. */
export function endsSession(error: PosternError): boolean {
  return (
    error.code !== 'IMAP_THROTTLED' && error.code !== 'IMAP_COMMAND_FAILED' && error.code !== 'IMAP_FOLDER_NOT_FOUND'
  );
}

function readFacts(error: unknown): ImapErrorFacts {
  const record: Record<string, unknown> = typeof error === 'object' && error !== null ? { ...error } : {};
  const text = (key: string): string | undefined => (typeof record[key] === 'string' ? record[key] : undefined);
  const number = (key: string): number | undefined =>
    typeof record[key] === 'number' && Number.isFinite(record[key]) ? record[key] : undefined;
  const response = record.response;
  return {
    code: text('code'),
    responseText: text('responseText') ?? (typeof response === 'string' ? response : undefined),
    responseStatus: text('responseStatus'),
    serverResponseCode: text('serverResponseCode'),
    authenticationFailed: record.authenticationFailed === true,
    tlsFailed: record.tlsFailed === true,
    mailboxMissing: record.mailboxMissing === true,
    reason: text('reason'),
    throttleReset: number('throttleReset'),
    throttleWaited: number('throttleWaited'),
    message: error instanceof Error ? error.message : String(error),
  };
}

/** A loggable description without anything the error may carry of the command it failed. */
function describe(facts: ImapErrorFacts): string {
  return [
    facts.code,
    facts.responseStatus,
    facts.responseText ?? facts.message,
    facts.reason === undefined ? undefined : `BYE ${facts.reason}`,
  ]
    .filter((part) => part !== undefined && part !== '')
    .join(': ');
}
