/**
 * `POST /v1.0/$batch`: Graph's JSON batching. The body `{"requests":[{id, method, url, headers?,
 * body?}]}` holds at most 20 requests, each with a distinct id and a URL relative to the version
 * root (`/me/messages/{id}`, `users/{upn}/messages/{id}/move`); the answer is 200 with
 * `{"responses":[{id, status, headers?, body?}]}` in the order of the requests.
 *
 * Each inner request is served as a direct call is ({@link serveGraphCall}): with the batch's own
 * bearer token, through the same path grammar, permission check, MailboxConcurrency slot (an
 * inner request over the limit is answered 429 with its own `Retry-After`), `graph` faults and
 * operation, so an inner answer's status and body are those of the same call made alone. At most 4
 * inner requests run at once, as Graph dispatches a batch to Outlook. A `$value` answer is
 * base64 in the JSON body, as Graph returns binary content in a batch.
 *
 * The batch itself must carry a valid token (401 otherwise, emulator choice). Not emulated: `dependsOn` (refused), `atomicityGroup`, absolute inner URLs (answered as a path
 * the emulator does not know). A `drop` fault on an inner request drops the batch's connection.
 *
 * @see https://learn.microsoft.com/graph/json-batching
 * @see https://learn.microsoft.com/graph/throttling-limits#outlook-service-limits (4 requests of a batch in parallel)
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { GraphDeps } from './graph-call.js';
import { authenticate } from './graph-auth.js';
import { graphErrorBody, graphErrors, isGraphError, type GraphError } from './graph-errors.js';
import type { GraphInbound, GraphServed } from './graph-routes.js';

/** Graph's limit on the requests of one batch. */
export const MAX_BATCH_REQUESTS = 20;
/** Inner requests of one batch served at once (Graph dispatches 4 at a time to Outlook). */
const BATCH_PARALLEL = 4;
const JSON_TYPE = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

const innerRequest = z.object({
  id: z.string().min(1).max(128),
  method: z.string().min(1).max(16),
  url: z.string().min(1).max(8192),
  headers: z.record(z.string().max(128), z.string().max(8192)).optional(),
  body: z.unknown().optional(),
  dependsOn: z.array(z.string()).optional(),
});
const batchBody = z.object({ requests: z.array(innerRequest) });

/** One inner answer of a batch. */
interface InnerResponse {
  readonly id: string;
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
}

/** `/v1.0/$batch` (case-insensitive, with or without a query). */
export function isBatchPath(url: string): boolean {
  return /^\/v1\.0\/\$batch(?:\?|$)/i.test(url);
}

/** Serves a batch: validates it, then each inner request through `serve`, 4 at a time. */
export async function serveBatch(
  deps: GraphDeps,
  inbound: GraphInbound,
  serve: (inner: GraphInbound) => Promise<GraphServed>,
): Promise<GraphServed> {
  if (inbound.method !== 'POST') return { kind: 'error', error: graphErrors.methodNotAllowed() };
  // The batch itself needs a valid token (emulator choice); each inner request is then checked on its own.
  const authorization = inbound.headers.authorization;
  try {
    authenticate(Array.isArray(authorization) ? authorization[0] : authorization, deps.introspect);
  } catch (error) {
    if (isGraphError(error)) return { kind: 'error', error };
    throw error;
  }
  const parsed = batchBody.safeParse(inbound.body);
  if (!parsed.success) return { kind: 'error', error: graphErrors.invalidRequest('Invalid batch payload format.') };
  const requests = parsed.data.requests;
  const refusal = refusalOf(requests);
  if (refusal !== undefined) return { kind: 'error', error: refusal };

  const responses: InnerResponse[] = [];
  let dropped = false;
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < requests.length && !dropped) {
      const index = next;
      next += 1;
      const request = requests[index];
      if (request === undefined) continue;
      const outcome = await serve(innerInbound(inbound, request));
      if (outcome.kind === 'drop') dropped = true;
      else responses[index] = answerOf(request.id, outcome, deps.clock.now());
    }
  };
  await Promise.all(Array.from({ length: Math.min(BATCH_PARALLEL, requests.length) }, lane));
  if (dropped) return { kind: 'drop' };
  return { kind: 'result', result: { kind: 'json', status: 200, body: { responses } } };
}

/** What Graph refuses in a batch as a whole: too many requests, no request, duplicate ids, dependsOn here. */
function refusalOf(requests: ReadonlyArray<z.infer<typeof innerRequest>>): GraphError | undefined {
  if (requests.length === 0)
    return graphErrors.invalidRequest('The batch request must contain at least one request. (emulator wording)');
  if (requests.length > MAX_BATCH_REQUESTS) return graphErrors.batchTooLarge(MAX_BATCH_REQUESTS);
  const ids = new Set<string>();
  for (const request of requests) {
    if (ids.has(request.id))
      return graphErrors.invalidRequest(`Request id ${request.id} is not unique in the batch. (emulator wording)`);
    ids.add(request.id);
    if (request.dependsOn !== undefined && request.dependsOn.length > 0)
      return graphErrors.invalidRequest('dependsOn is not supported by the emulator. (emulator wording)');
  }
  return undefined;
}

/** An inner request as a call: the batch's authorization, the inner headers, under `/v1.0`. */
function innerInbound(outer: GraphInbound, request: z.infer<typeof innerRequest>): GraphInbound {
  const headers: Record<string, string | string[] | undefined> = {};
  for (const [name, value] of Object.entries(request.headers ?? {})) headers[name.toLowerCase()] = value;
  if (request.body !== undefined && headers['content-type'] === undefined) headers['content-type'] = 'application/json';
  headers.authorization = outer.headers.authorization;
  return {
    method: request.method.toUpperCase(),
    url: `/v1.0/${request.url.replace(/^\/+/, '')}`,
    headers,
    body: request.body,
    origin: outer.origin,
  };
}

/** An inner answer in the batch's shape; bytes become base64, as Graph returns binary content. */
function answerOf(id: string, outcome: Exclude<GraphServed, { kind: 'drop' }>, at: Date): InnerResponse {
  if (outcome.kind === 'error') {
    const requestId = randomUUID();
    return {
      id,
      status: outcome.error.status,
      headers: { 'content-type': 'application/json', ...outcome.error.headers },
      body: graphErrorBody(outcome.error, { requestId, clientRequestId: requestId }, at),
    };
  }
  const result = outcome.result;
  switch (result.kind) {
    case 'json':
      return {
        id,
        status: result.status,
        headers: { 'content-type': JSON_TYPE, ...result.headers },
        body: result.body,
      };
    case 'bytes':
      return {
        id,
        status: result.status,
        headers: { 'content-type': result.contentType },
        body: result.data.toString('base64'),
      };
    case 'empty':
      return { id, status: result.status };
  }
}
