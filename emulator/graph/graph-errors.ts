/**
 * Microsoft Graph's error replies, as the Outlook mail API sends them: the body
 * `{"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}`, the
 * `request-id` / `client-request-id` headers on every response, `WWW-Authenticate` on 401 and
 * `Retry-After` on 429/503. Codes and messages are Microsoft's, word for word where the reference
 * records them; the few the reference does not record are marked "(emulator wording)".
 *
 * @see ../../../shared/reference/microsoft-protocols.md §7 (throttling), §8 (errors)
 * @see https://learn.microsoft.com/graph/errors (error resource type)
 * @see https://learn.microsoft.com/graph/throttling-limits (ApplicationThrottled, MailboxConcurrency)
 */
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** A Graph error reply: HTTP status, Graph `code`, `message`, and extra response headers. */
export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'GraphError';
  }
}

/** Narrowing helper. */
export function isGraphError(value: unknown): value is GraphError {
  return value instanceof GraphError;
}

/** The ids Graph puts in every response's headers and in `innerError`. */
export interface GraphRequestIds {
  readonly requestId: string;
  readonly clientRequestId: string;
}

/** Graph's own `WWW-Authenticate` challenge on 401 replies. */
const GRAPH_CHALLENGE =
  'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"';

/** The catalogue of error replies the emulated Graph gives. */
export const graphErrors = {
  /** No bearer token at all. */
  emptyToken: () =>
    new GraphError(401, 'InvalidAuthenticationToken', 'Access token is empty.', {
      'www-authenticate': GRAPH_CHALLENGE,
    }),
  /** Not a JWT. */
  malformedToken: () =>
    new GraphError(401, 'InvalidAuthenticationToken', 'CompactToken parsing failed with error code: 80049217', {
      'www-authenticate': GRAPH_CHALLENGE,
    }),
  expiredToken: () =>
    new GraphError(401, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.', {
      'www-authenticate': GRAPH_CHALLENGE,
    }),
  /** Bad signature, unknown issuer, revoked principal. */
  invalidToken: () =>
    new GraphError(401, 'InvalidAuthenticationToken', 'Access token validation failure.', {
      'www-authenticate': GRAPH_CHALLENGE,
    }),
  /** A token for another resource, e.g. Exchange (`aud` https://outlook.office.com). @see reference §2 [MS-ISS87] */
  invalidAudience: () =>
    new GraphError(401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid audience.', {
      'www-authenticate': GRAPH_CHALLENGE,
    }),
  /** Missing scope or role, or no delegation on another user's mailbox. */
  accessDenied: () => new GraphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.'),
  /** An app-only call to a mailbox outside the app's application access policy. @see reference §6 [GAAP] */
  accessPolicyDenied: () => new GraphError(403, 'ErrorAccessDenied', 'Access to OData is disabled.'),
  /** @see reference §6 [GSEND-OTHER] */
  sendAsDenied: () =>
    new GraphError(
      403,
      'ErrorSendAsDenied',
      'The user account which was used to submit this request does not have the right to send mail on behalf of the specified sending account. Cannot submit message.',
    ),
  /** Directory reads (`GET /users/{id}`) without User.Read / User.ReadBasic.All / User.Read.All. */
  insufficientPrivileges: () =>
    new GraphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.'),
  itemNotFound: () => new GraphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.'),
  idMalformed: () => new GraphError(400, 'ErrorInvalidIdMalformed', 'Id is malformed.'),
  invalidUser: (ref: string) => new GraphError(404, 'ErrorInvalidUser', `The requested user '${ref}' is invalid.`),
  userNotFound: (ref: string) =>
    new GraphError(
      404,
      'Request_ResourceNotFound',
      `Resource '${ref}' does not exist or one of its queried reference-property objects are not present.`,
    ),
  mailboxNotEnabled: () =>
    new GraphError(
      404,
      'MailboxNotEnabledForRESTAPI',
      'The mailbox is either inactive, soft-deleted, or is hosted on-premise.',
    ),
  meWithAppOnly: () =>
    new GraphError(400, 'BadRequest', '/me request is only valid with delegated authentication flow.'),
  /** @see reference §8 [GLIST] */
  inefficientFilter: () =>
    new GraphError(400, 'InefficientFilter', 'The restriction or sort order is too complex for this operation.'),
  unknownProperty: (name: string) =>
    new GraphError(
      400,
      'RequestBroker--ParseUri',
      `Could not find a property named '${name}' on type 'Microsoft.OutlookServices.Message'.`,
    ),
  unknownBodyProperty: (name: string) =>
    new GraphError(
      400,
      'RequestBodyRead',
      `The property '${name}' does not exist on type 'Microsoft.OutlookServices.Message'. Make sure to only use property names that are defined by the type or mark the type as open type.`,
    ),
  segmentNotFound: (segment: string) =>
    new GraphError(400, 'BadRequest', `Resource not found for the segment '${segment}'.`),
  duplicateOption: (name: string) =>
    new GraphError(
      400,
      'BadRequest',
      `Query option '${name}' was specified more than once, but it must be specified at most once.`,
    ),
  incompatibleTypes: (operator: string) =>
    new GraphError(
      400,
      'BadRequest',
      `A binary operator with incompatible types was detected. Found operand types 'Edm.DateTimeOffset' and 'Edm.String' for operator kind '${operator}'.`,
    ),
  /** A query the emulated API does not accept (emulator wording). */
  invalidQuery: (message: string) => new GraphError(400, 'ErrorInvalidUrlQuery', message),
  invalidJson: () =>
    new GraphError(
      400,
      'BadRequest',
      'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.',
    ),
  /** A body that is JSON but not what the action takes (emulator wording). */
  invalidRequest: (message: string) => new GraphError(400, 'ErrorInvalidRequest', message),
  /** @see reference §8 [GSEND] */
  invalidBase64: () =>
    new GraphError(400, 'ErrorMimeContentInvalidBase64String', 'Invalid base64 string for MIME content.'),
  /** No recipient at all (emulator wording). */
  invalidRecipients: () => new GraphError(400, 'ErrorInvalidRecipients', "At least one recipient isn't valid."),
  /** The rolling-day recipient quota shared with SMTP submission (emulator wording, unverified). */
  submissionQuotaExceeded: () =>
    new GraphError(
      403,
      'ErrorSubmissionQuotaExceeded',
      'Cannot submit message. The recipient limit of the sending mailbox has been exceeded.',
    ),
  /** A delta token that is unknown or was dropped from the sync-state cache. @see microsoftgraph/microsoft-graph-docs#2350 */
  syncStateNotFound: () => new GraphError(410, 'SyncStateNotFound', 'The sync state generation is not found.'),
  /** @see reference §7 [GTHROT][ISS-MBC] */
  throttled: (retryAfterSeconds: number) =>
    new GraphError(429, 'ApplicationThrottled', 'Application is over its MailboxConcurrency limit.', {
      'retry-after': String(retryAfterSeconds),
    }),
  unavailable: (retryAfterSeconds?: number) =>
    new GraphError(
      503,
      'serviceNotAvailable',
      'The service is temporarily unavailable. Try again later.',
      retryAfterSeconds === undefined ? {} : { 'retry-after': String(retryAfterSeconds) },
    ),
  internal: () => new GraphError(500, 'generalException', 'An unspecified error has occurred.'),
  methodNotAllowed: () => new GraphError(405, 'BadRequest', 'The HTTP method is not allowed for the request target.'),
  unsupportedMediaType: () => new GraphError(415, 'BadRequest', 'The Content-Type of the request is not supported.'),
  /** A `$batch` of more requests than Graph takes (emulator wording). @see https://learn.microsoft.com/graph/json-batching */
  batchTooLarge: (max: number) =>
    new GraphError(400, 'BadRequest', `A batch request can hold at most ${max} requests. (emulator wording)`),
  payloadTooLarge: () => new GraphError(413, 'RequestEntityTooLarge', 'The request payload is too large.'),
  /**
   * A message over the mailbox's MaxSendSize (`Set-Mailbox -MaxSendSize`), as Graph answers it in
   * field reports (400, not 413: the request itself was within Graph's limits).
   * @see microsoftgraph/microsoft-graph-docs#15579, InnoGE/laravel-msgraph-mail#41
   */
  messageSizeExceeded: () =>
    new GraphError(400, 'ErrorMessageSizeExceeded', 'The message exceeds the maximum supported size.'),
} as const;

/** The request ids of a request: a new `request-id`, and the client's `client-request-id` or the same. */
export function graphRequestIds(request: FastifyRequest): GraphRequestIds {
  const requestId = randomUUID();
  const header = request.headers['client-request-id'];
  const clientRequestId = typeof header === 'string' && header.length > 0 && header.length <= 128 ? header : requestId;
  return { requestId, clientRequestId };
}

/** Puts the request-id headers Graph sends on every reply. */
export function setGraphHeaders(reply: FastifyReply, ids: GraphRequestIds): void {
  void reply.header('request-id', ids.requestId).header('client-request-id', ids.clientRequestId);
}

/** `2024-01-15T10:20:30`: the `innerError.date` format (UTC, seconds, no zone designator). */
function innerErrorDate(at: Date): string {
  return at.toISOString().slice(0, 19);
}

/** The JSON body of a Graph error (also an inner response's body in a `$batch`). */
export function graphErrorBody(error: GraphError, ids: GraphRequestIds, at: Date): { error: Record<string, unknown> } {
  return {
    error: {
      code: error.code,
      message: error.message,
      innerError: { date: innerErrorDate(at), 'request-id': ids.requestId, 'client-request-id': ids.clientRequestId },
    },
  };
}

/** Sends a Graph error reply with its headers. */
export function sendGraphError(reply: FastifyReply, error: GraphError, ids: GraphRequestIds, at: Date): FastifyReply {
  setGraphHeaders(reply, ids);
  for (const [name, value] of Object.entries(error.headers)) void reply.header(name, value);
  return reply
    .code(error.status)
    .header('content-type', 'application/json')
    .send(graphErrorBody(error, ids, at));
}
