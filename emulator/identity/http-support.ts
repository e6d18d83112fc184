/**
 * Small HTTP helpers shared by the identity routes: the base URL a client used, flat parameter
 * maps from query and form body, Microsoft's response headers, the AADSTS error reply, and the
 * per-request outcome the request log records.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow#error-response-1
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../clock.js';
import { AadstsError, errorBody, newRequestIds, type RequestIds } from './aadsts.js';

/** What the request log should know about a handled request. */
export interface RequestOutcome {
  endpoint: string;
  tenant?: string;
  grantType?: string;
  clientId?: string;
  error?: string;
  aadsts?: number;
  fault?: string;
}

const outcomes = new WeakMap<FastifyRequest, RequestOutcome>();

/** Records (merges) the outcome of a request for the request log. */
export function noteOutcome(request: FastifyRequest, outcome: Partial<RequestOutcome>): void {
  const previous = outcomes.get(request) ?? { endpoint: 'other' };
  outcomes.set(request, { ...previous, ...outcome });
}

/** The outcome noted for a request, if any. */
export function outcomeOf(request: FastifyRequest): RequestOutcome | undefined {
  return outcomes.get(request);
}

/** `https://127.0.0.1:PORT`: the origin the client used (issuer URLs follow it). */
export function baseUrlOf(request: FastifyRequest): string {
  const host = request.headers.host ?? `127.0.0.1`;
  return `${request.protocol}://${host}`;
}

function flatten(source: unknown, into: Record<string, string>): void {
  if (typeof source !== 'object' || source === null) return;
  for (const [k, v] of Object.entries(source)) {
    if (typeof v === 'string') into[k] = v;
    else if (Array.isArray(v) && typeof v[0] === 'string') into[k] = v[0];
  }
}

/**
 * Query and form parameters as one string map (body wins). Only a form-urlencoded body counts:
 * like Microsoft, the endpoints do not read JSON bodies.
 */
export function paramsOf(request: FastifyRequest): Record<string, string> {
  const out: Record<string, string> = {};
  flatten(request.query, out);
  const type = request.headers['content-type'] ?? '';
  if (type.toLowerCase().startsWith('application/x-www-form-urlencoded')) flatten(request.body, out);
  return out;
}

/** Trace/correlation ids, honouring `client-request-id`. */
export function requestIdsOf(request: FastifyRequest): RequestIds {
  const header = request.headers['client-request-id'];
  return newRequestIds(typeof header === 'string' ? header : undefined);
}

/** Headers Microsoft sets on token responses. */
export function setNoStore(reply: FastifyReply, ids: RequestIds): void {
  reply.header('cache-control', 'no-store, no-cache');
  reply.header('pragma', 'no-cache');
  reply.header('expires', '-1');
  reply.header('x-ms-request-id', ids.traceId);
  reply.header('client-request-id', ids.correlationId);
}

/** Sends an AADSTS error as Microsoft's JSON body (400, or 401 for `invalid_client`). */
export function sendAadError(
  request: FastifyRequest,
  reply: FastifyReply,
  err: AadstsError,
  clock: Clock,
  ids: RequestIds = requestIdsOf(request),
): FastifyReply {
  noteOutcome(request, { error: err.error, aadsts: err.code });
  setNoStore(reply, ids);
  return reply
    .code(err.status)
    .type('application/json; charset=utf-8')
    .send(errorBody(err, ids, clock.now()));
}

/** Runs `handler`, turning a thrown AadstsError into Microsoft's JSON error reply. */
export async function withAadErrors(
  request: FastifyRequest,
  reply: FastifyReply,
  clock: Clock,
  handler: () => Promise<unknown> | unknown,
): Promise<unknown> {
  try {
    return await handler();
  } catch (error) {
    if (error instanceof AadstsError) return sendAadError(request, reply, error, clock);
    throw error;
  }
}

/** Parses HTTP Basic credentials (RFC 6749 §2.3.1: both parts form-urlencoded). */
export function basicCredentials(request: FastifyRequest): { clientId: string; secret: string } | undefined {
  const header = request.headers.authorization;
  if (header === undefined || !/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  const decode = (s: string): string => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '));
    } catch {
      return s;
    }
  };
  return { clientId: decode(decoded.slice(0, colon)), secret: decode(decoded.slice(colon + 1)) };
}
