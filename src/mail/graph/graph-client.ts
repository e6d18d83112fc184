/**
 * The one way Postern talks to Microsoft Graph for a mailbox: HTTPS with the route's trust, a
 * bearer token from the caller, every path under `/users/{mailbox}`, and Graph's rules kept here
 * so that the inbound source and the outbound sender cannot get them wrong:
 *
 * - at most {@link MAX_CONCURRENT_PER_MAILBOX} requests in flight per mailbox in this process
 *   (Exchange's MailboxConcurrency limit answers the fifth with 429);
 * - `429` waits for `Retry-After` and tries again, up to a budget of waiting per call; a `5xx` to a
 *   read is tried again twice; a `401` refreshes the token once (it may have been revoked early);
 * - `@odata.nextLink` / `@odata.deltaLink` are followed only on the API's own origin;
 * - bodies are read with a cap, so a hostile or broken answer cannot fill the memory;
 * - JSON batching (`POST $batch`, {@link MAX_BATCH_REQUESTS} requests each): every inner request
 *   keeps its own outcome, inner 429s and 5xx are tried again as direct calls are, and a batch
 *   holds as many of the mailbox's slots as Graph runs of it at once (up to 4), so that it cannot
 *   push the mailbox over its MailboxConcurrency limit.
 *
 * @see https://learn.microsoft.com/graph/json-batching
 * @see https://learn.microsoft.com/graph/throttling
 * @see https://learn.microsoft.com/graph/throttling-limits#outlook-service-limits (4 concurrent requests per app and mailbox)
 */
import { createHash } from 'node:crypto';
import tls from 'node:tls';
import { Agent, fetch as undiciFetch, type Response } from 'undici';
import { z } from 'zod';
import { PosternError, isPosternError } from '../../errors/index.js';
import { graphFailureOf, mapGraphFailure, mapGraphNetworkError, type GraphPurpose } from './graph-errors.js';

/** Where a mailbox is reached through Graph. */
export interface GraphTarget {
  /** The API root with its version, e.g. `https://graph.microsoft.com/v1.0`. */
  readonly apiBase: string;
  /** The mailbox's address (or object id): requests go to `/users/{mailbox}`. */
  readonly mailbox: string;
  /** An extra CA (PEM) trusted besides the system's, for a custom authority (the emulator). */
  readonly ca: string | null;
}

/** A log sink with pino's shape (the mail layer does not import the logger). */
export interface GraphLogger {
  debug(bindings: object, message: string): void;
  warn(bindings: object, message: string): void;
}

export interface GraphClientOptions {
  readonly target: GraphTarget;
  /** A valid access token for Microsoft Graph. */
  readonly accessToken: () => Promise<string>;
  /** Refreshes the token after Graph refused it (401); the next `accessToken()` gives the new one. */
  readonly refreshToken?: () => Promise<void>;
  /** What the client is for, which decides how a refusal is named (a 400 to a send is the message's fault). */
  readonly purpose: GraphPurpose;
  /** Per request. Default 60 s. */
  readonly timeoutMs?: number;
  /** How long one call may wait in all for `429`s before it gives up with GRAPH_THROTTLED. Default 120 s. */
  readonly throttleBudgetMs?: number;
  /** Ends waits and requests at once. */
  readonly signal?: AbortSignal;
  readonly logger?: GraphLogger;
  /** For tests: how the client waits. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Exchange Online's MailboxConcurrency limit: 4 requests at a time per application and mailbox. */
export const MAX_CONCURRENT_PER_MAILBOX = 4;
/** The largest JSON answer read (a page of messages with the properties Postern selects is far smaller). */
export const MAX_JSON_BYTES = 16 * 1024 * 1024;
/** Tries of a read after a 5xx, besides the first. */
const SERVER_ERROR_RETRIES = 2;
/** When a 429 gives no Retry-After. */
const DEFAULT_THROTTLE_WAIT_MS = 2_000;

/** Graph's limit on the requests of one `$batch`. */
export const MAX_BATCH_REQUESTS = 20;

/** One request of a batch: a path under `/users/{mailbox}` (starting with `/`) and a JSON body. */
export interface GraphBatchItem {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  readonly path: string;
  readonly body?: unknown;
}

/** What became of one request of a batch: its answer, or the catalogue error it came to (a 404 too). */
export type GraphBatchOutcome =
  | { readonly ok: true; readonly status: number; readonly body: unknown }
  | { readonly ok: false; readonly error: PosternError };

const batchAnswer = z.object({
  responses: z
    .array(
      z.object({
        id: z.string().max(128),
        status: z.number().int(),
        headers: z.record(z.string().max(256), z.string().max(8192)).optional(),
        body: z.unknown().optional(),
      }),
    )
    .max(MAX_BATCH_REQUESTS),
});

/** A request body: JSON, text (a MIME message in base64 for `sendMail`), or bytes (an upload session's range). */
export type GraphBody =
  | { readonly json: unknown }
  | { readonly text: string; readonly contentType: string }
  | { readonly bytes: Uint8Array; readonly contentType: string };

export interface GraphRequest {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT';
  /** A path under `/users/{mailbox}` (starting with `/`), or an absolute link Graph gave. */
  readonly path: string;
  readonly body?: GraphBody;
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * An upload session's URL, which carries its own authorization: sent without the bearer token,
   * and allowed on Outlook's upload hosts besides the API's origin.
   */
  readonly preauthenticated?: boolean;
}

/** Where Graph's upload sessions put their pre-authenticated URLs (Outlook's REST hosts). */
const UPLOAD_HOSTS = new Set([
  'outlook.office.com',
  'outlook.office365.com',
  'outlook.office365.us',
  'partner.outlook.cn',
]);

/** A Graph client for one mailbox. */
export class GraphClient {
  private readonly base: URL;
  private readonly mailboxRoot: string;
  private readonly gate: Gate;
  private readonly agent: Agent | undefined;

  constructor(private readonly options: GraphClientOptions) {
    this.base = new URL(options.target.apiBase.endsWith('/') ? options.target.apiBase : `${options.target.apiBase}/`);
    this.mailboxRoot = `${this.base.href}users/${encodeURIComponent(options.target.mailbox)}`;
    this.gate = gateFor(`${this.base.origin}|${options.target.mailbox.toLowerCase()}`);
    this.agent = options.target.ca === null ? undefined : agentFor(options.target.ca);
  }

  get mailbox(): string {
    return this.options.target.mailbox;
  }

  /** A URL under the API root rather than the mailbox (`subscriptions`, `subscriptions/{id}`). */
  apiUrl(path: string): string {
    return `${this.base.href}${path}`;
  }

  /** A JSON answer (null for 202/204 without a body). */
  async json<T>(request: GraphRequest): Promise<T> {
    const response = await this.send(request);
    const text = await readCapped(response, MAX_JSON_BYTES, this.failureContext());
    if (text.length === 0) return null as T;
    try {
      return JSON.parse(text.toString('utf8')) as T;
    } catch (error) {
      throw new PosternError('GRAPH_REQUEST_FAILED', {
        message: `Microsoft Graph answered ${request.method} with a body that is not JSON (mailbox ${this.mailbox}).`,
        details: { mailbox: this.mailbox, status: response.status },
        cause: error,
      });
    }
  }

  /** The raw bytes of an answer (a message's MIME from `$value`), refused above `maxBytes`. */
  async bytes(request: GraphRequest, maxBytes: number): Promise<Buffer> {
    const response = await this.send(request);
    return readCapped(response, maxBytes, this.failureContext());
  }

  /**
   * One range of an upload session: `PUT` to the pre-authenticated URL Graph gave, with
   * `Content-Range: bytes start-end/total`; the answer's JSON (`nextExpectedRanges`), or null for
   * the final `201 Created`.
   *
   * @see https://learn.microsoft.com/graph/outlook-large-attachments
   */
  async uploadChunk(uploadUrl: string, chunk: Uint8Array, start: number, total: number): Promise<unknown> {
    return this.json<unknown>({
      method: 'PUT',
      path: uploadUrl,
      preauthenticated: true,
      body: { bytes: chunk, contentType: 'application/octet-stream' },
      headers: { 'content-range': `bytes ${start}-${start + chunk.byteLength - 1}/${total}` },
    });
  }

  /**
   * Several requests in `$batch`es of at most {@link MAX_BATCH_REQUESTS}; outcomes in input order.
   * An inner 429 is waited out (its `Retry-After`) within the call's throttle budget, an inner 5xx
   * tried again as a read's is, an inner 401 refreshes the token once; any other failure (a 404
   * for a message gone meanwhile) is that item's outcome. A batch failing as a whole throws.
   */
  async batch(items: readonly GraphBatchItem[]): Promise<GraphBatchOutcome[]> {
    const outcomes: GraphBatchOutcome[] = [];
    for (let start = 0; start < items.length; start += MAX_BATCH_REQUESTS) {
      outcomes.push(...(await this.batchOnce(items.slice(start, start + MAX_BATCH_REQUESTS))));
    }
    return outcomes;
  }

  /** One batch of at most 20, sent again with the items that must be tried again. */
  private async batchOnce(items: readonly GraphBatchItem[]): Promise<GraphBatchOutcome[]> {
    const outcomes: Array<GraphBatchOutcome | undefined> = items.map(() => undefined);
    const serverErrors = items.map(() => 0);
    const prefix = `/users/${encodeURIComponent(this.mailbox)}`;
    let throttledFor = 0;
    let refreshed = false;
    for (;;) {
      const pending = items.flatMap((item, index) => (outcomes[index] === undefined ? [{ item, index }] : []));
      if (pending.length === 0)
        return outcomes.map((outcome) => outcome ?? { ok: false, error: batchBroken(this.mailbox) });
      const requests = pending.map(({ item, index }) => ({
        id: String(index),
        method: item.method,
        url: `${prefix}${item.path}`,
        ...(item.body === undefined ? {} : { body: item.body, headers: { 'content-type': 'application/json' } }),
      }));
      const response = await this.dispatch(
        { method: 'POST', path: this.apiUrl('$batch'), body: { json: { requests } } },
        // Graph runs up to 4 requests of a batch at once, each counted against the mailbox's limit.
        Math.min(MAX_CONCURRENT_PER_MAILBOX, requests.length),
      );
      const parsed = batchAnswer.safeParse(
        await readCapped(response, MAX_JSON_BYTES, this.failureContext()).then((text) => parseJson(text)),
      );
      if (!parsed.success)
        throw new PosternError('GRAPH_REQUEST_FAILED', {
          message: `Microsoft Graph answered a $batch with a body Postern does not understand (mailbox ${this.mailbox}).`,
          details: { mailbox: this.mailbox, status: response.status },
        });
      let throttleWait = 0;
      let serverWait = 0;
      let unauthorized = false;
      const throttled: Array<{ readonly index: number; readonly error: PosternError }> = [];
      for (const answer of parsed.data.responses) {
        const index = Number(answer.id);
        if (!Number.isInteger(index) || index < 0 || index >= items.length || outcomes[index] !== undefined) continue;
        if (answer.status >= 200 && answer.status < 300) {
          outcomes[index] = { ok: true, status: answer.status, body: answer.body ?? null };
          continue;
        }
        const failure = graphFailureOf(answer.status, answer.body, headersOf(answer.headers));
        const error = mapGraphFailure(failure, { mailbox: this.mailbox, purpose: this.options.purpose });
        if (answer.status === 429) {
          throttleWait = Math.max(throttleWait, failure.retryAfterMs ?? DEFAULT_THROTTLE_WAIT_MS);
          throttled.push({ index, error });
        } else if (answer.status >= 500 && (serverErrors[index] ?? 0) < SERVER_ERROR_RETRIES) {
          serverErrors[index] = (serverErrors[index] ?? 0) + 1;
          serverWait = Math.max(serverWait, failure.retryAfterMs ?? 1_000 * (serverErrors[index] ?? 1));
        } else if (answer.status === 401 && !refreshed && this.options.refreshToken !== undefined) {
          unauthorized = true;
        } else {
          outcomes[index] = { ok: false, error };
        }
      }
      // An id Graph did not answer is tried again as a 5xx would be.
      for (const { index } of pending)
        if (outcomes[index] === undefined && !parsed.data.responses.some((answer) => answer.id === String(index))) {
          if ((serverErrors[index] ?? 0) >= SERVER_ERROR_RETRIES)
            outcomes[index] = { ok: false, error: batchBroken(this.mailbox) };
          else serverErrors[index] = (serverErrors[index] ?? 0) + 1;
        }
      // Throttled requests wait within the call's budget; past it they keep GRAPH_THROTTLED.
      if (throttled.length > 0 && throttledFor + throttleWait > (this.options.throttleBudgetMs ?? 120_000)) {
        for (const { index, error } of throttled) outcomes[index] = { ok: false, error };
        throttleWait = 0;
      }
      if (outcomes.every((outcome) => outcome !== undefined)) continue;
      if (unauthorized) {
        refreshed = true;
        await this.options.refreshToken?.();
      }
      const wait = Math.max(throttleWait, serverWait);
      if (wait > 0) {
        throttledFor += throttleWait;
        this.options.logger?.warn(
          { mailbox: this.mailbox, method: 'POST', waitMs: wait, batch: true },
          'Microsoft Graph throttles or fails requests of a batch; waiting before trying them again',
        );
        await this.sleep(wait);
      }
    }
  }

  /** Sends a request and returns the successful answer (its body unread), or throws the catalogue error. */
  async send(request: GraphRequest): Promise<Response> {
    return this.dispatch(request, 1);
  }

  /** `send`, holding `weight` of the mailbox's slots while the request is in flight. */
  private async dispatch(request: GraphRequest, weight: number): Promise<Response> {
    const url = this.urlOf(request.path, request.preauthenticated === true);
    let throttledFor = 0;
    let serverErrors = 0;
    let refreshed = false;
    for (;;) {
      const response = await this.gate.run(() => this.once(url, request), this.options.signal, weight);
      if (response.ok) return response;
      const body = await readErrorBody(response);
      const failure = graphFailureOf(response.status, body, response.headers);
      const error = mapGraphFailure(failure, { mailbox: this.mailbox, purpose: this.options.purpose });
      if (response.status === 429) {
        const wait = failure.retryAfterMs ?? DEFAULT_THROTTLE_WAIT_MS;
        if (throttledFor + wait > (this.options.throttleBudgetMs ?? 120_000)) throw error;
        throttledFor += wait;
        this.options.logger?.warn(
          { mailbox: this.mailbox, method: request.method, waitMs: wait, graphCode: failure.graphCode },
          'Microsoft Graph throttles this mailbox; waiting as it asks',
        );
        await this.sleep(wait);
        continue;
      }
      if (response.status >= 500 && request.method === 'GET' && serverErrors < SERVER_ERROR_RETRIES) {
        serverErrors += 1;
        await this.sleep(failure.retryAfterMs ?? 1_000 * serverErrors);
        continue;
      }
      // An upload URL carries its own token: a refreshed Graph token would change nothing.
      if (
        response.status === 401 &&
        !refreshed &&
        request.preauthenticated !== true &&
        this.options.refreshToken !== undefined
      ) {
        refreshed = true;
        await this.options.refreshToken();
        continue;
      }
      throw error;
    }
  }

  private async once(url: URL, request: GraphRequest): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', ...request.headers };
    if (request.preauthenticated !== true) headers.authorization = `Bearer ${await this.options.accessToken()}`;
    let body: string | Uint8Array | undefined;
    if (request.body !== undefined) {
      if ('json' in request.body) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(request.body.json);
      } else if ('text' in request.body) {
        headers['content-type'] = request.body.contentType;
        body = request.body.text;
      } else {
        headers['content-type'] = request.body.contentType;
        body = request.body.bytes;
      }
    }
    const timeout = AbortSignal.timeout(this.options.timeoutMs ?? 60_000);
    const signal = this.options.signal === undefined ? timeout : AbortSignal.any([this.options.signal, timeout]);
    this.options.logger?.debug({ mailbox: this.mailbox, method: request.method, path: url.pathname }, 'Graph request');
    try {
      return await undiciFetch(url, {
        method: request.method,
        headers,
        ...(body === undefined ? {} : { body }),
        redirect: 'manual',
        signal,
        ...(this.agent === undefined ? {} : { dispatcher: this.agent }),
      });
    } catch (error) {
      if (this.options.signal?.aborted === true) throw stopped();
      throw mapGraphNetworkError(error, { mailbox: this.mailbox, host: url.host });
    }
  }

  /**
   * A path under the mailbox, or a link Graph gave — on the API's own origin only; an upload
   * session's URL also on Outlook's upload hosts, over https.
   */
  private urlOf(path: string, upload = false): URL {
    if (path.startsWith('/')) return new URL(`${this.mailboxRoot}${path}`);
    let url: URL;
    try {
      url = new URL(path);
    } catch {
      throw linkRefused(this.mailbox, 'is not a URL');
    }
    if (upload && url.protocol === 'https:' && (url.origin === this.base.origin || UPLOAD_HOSTS.has(url.hostname)))
      return url;
    if (url.origin !== this.base.origin || !url.pathname.startsWith(this.base.pathname))
      throw linkRefused(this.mailbox, `leads to ${url.origin}, not to ${this.base.origin}`);
    return url;
  }

  private failureContext(): { mailbox: string } {
    return { mailbox: this.mailbox };
  }

  private sleep(ms: number): Promise<void> {
    if (this.options.sleep !== undefined) return this.options.sleep(ms, this.options.signal);
    return new Promise((resolve, reject) => {
      const signal = this.options.signal;
      if (signal?.aborted === true) return reject(stopped());
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(stopped());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** Thrown when the client's signal ends a call: the caller is stopping, nothing failed. */
export class GraphCallStopped extends Error {
  constructor() {
    super('The Graph call was stopped.');
    this.name = 'GraphCallStopped';
  }
}

function stopped(): GraphCallStopped {
  return new GraphCallStopped();
}

function batchBroken(mailbox: string): PosternError {
  return new PosternError('GRAPH_REQUEST_FAILED', {
    message: `Microsoft Graph did not answer a request of a $batch (mailbox ${mailbox}).`,
    details: { mailbox },
  });
}

function parseJson(text: Buffer): unknown {
  try {
    return JSON.parse(text.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** An inner answer's headers, looked up without regard to case. */
function headersOf(headers: Readonly<Record<string, string>> | undefined): { get(name: string): string | null } {
  const lower = new Map(Object.entries(headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]));
  return { get: (name) => lower.get(name.toLowerCase()) ?? null };
}

function linkRefused(mailbox: string, why: string): PosternError {
  return new PosternError('GRAPH_REQUEST_FAILED', {
    message: `Microsoft Graph gave a link that Postern does not follow: it ${why} (mailbox ${mailbox}).`,
    details: { mailbox },
  });
}

/** Reads a body up to `max` bytes; a longer one is refused without reading the rest. Exported for its test. */
export async function readCapped(response: Response, max: number, context: { mailbox: string }): Promise<Buffer> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > max) {
    await response.body?.cancel();
    throw tooLarge(declared, max, context.mailbox);
  }
  if (response.body === null) return Buffer.alloc(0);
  // A declared length within the cap, of an answer not compressed (fetch inflates a compressed
  // one, which may then exceed the cap), is read whole — undici refuses a body longer than
  // declared: one copy, where the stream's async iterator costs a promise and a copy per chunk.
  const encoding = response.headers.get('content-encoding');
  if (Number.isFinite(declared) && (encoding === null || encoding === 'identity'))
    return Buffer.from(await response.arrayBuffer());
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of response.body) {
    const bytes = chunk as Uint8Array;
    total += bytes.byteLength;
    if (total > max) {
      await response.body.cancel().catch(() => undefined);
      throw tooLarge(total, max, context.mailbox);
    }
    chunks.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }
  return Buffer.concat(chunks, total);
}

function tooLarge(size: number, max: number, mailbox: string): PosternError {
  return new PosternError('GRAPH_MESSAGE_TOO_LARGE', {
    message: `Microsoft Graph's answer is larger than ${max} bytes (at least ${size}); Postern did not read it (mailbox ${mailbox}).`,
    details: { mailbox, size, max },
  });
}

/** The error body of a failed answer, parsed when it is JSON (at most 64 KB read). */
async function readErrorBody(response: Response): Promise<unknown> {
  try {
    const text = await readCapped(response, 64 * 1024, { mailbox: '' });
    return JSON.parse(text.toString('utf8')) as unknown;
  } catch (error) {
    if (isPosternError(error)) return null;
    return null;
  }
}

/** A counting gate: at most N slots in use, the rest wait in order; a call may hold several slots. */
class Gate {
  private active = 0;
  private readonly waiting: Array<{ readonly weight: number; readonly go: () => void }> = [];

  constructor(private readonly limit: number) {}

  async run<T>(work: () => Promise<T>, signal?: AbortSignal, weight = 1): Promise<T> {
    const slots = Math.max(1, Math.min(this.limit, weight));
    if (this.waiting.length > 0 || this.active + slots > this.limit) {
      await new Promise<void>((resolve, reject) => {
        const entry = {
          weight: slots,
          go: (): void => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
        };
        const onAbort = (): void => {
          const index = this.waiting.indexOf(entry);
          if (index >= 0) this.waiting.splice(index, 1);
          this.admit();
          reject(stopped());
        };
        this.waiting.push(entry);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    } else {
      this.active += slots;
    }
    try {
      return await work();
    } finally {
      this.active -= slots;
      this.admit();
    }
  }

  /** Lets waiting calls in, in order, while their slots are free. */
  private admit(): void {
    for (let next = this.waiting[0]; next !== undefined; next = this.waiting[0]) {
      if (this.active + next.weight > this.limit) return;
      this.waiting.shift();
      this.active += next.weight;
      next.go();
    }
  }

  get idle(): boolean {
    return this.active === 0 && this.waiting.length === 0;
  }
}

const gates = new Map<string, Gate>();

/** The gate of one mailbox, shared by every client of it in this process. */
function gateFor(key: string): Gate {
  let gate = gates.get(key);
  if (gate === undefined) {
    // Forget idle gates now and then, so that a process serving many mailboxes keeps few.
    if (gates.size > 1_000) for (const [other, g] of gates) if (g.idle) gates.delete(other);
    gate = new Gate(MAX_CONCURRENT_PER_MAILBOX);
    gates.set(key, gate);
  }
  return gate;
}

const agents = new Map<string, Agent>();

/** One connection pool per extra CA; the system's roots stay trusted besides it. */
function agentFor(ca: string): Agent {
  const key = createHash('sha256').update(ca).digest('hex');
  let agent = agents.get(key);
  if (agent === undefined) {
    // One TLS context for the pool: a `ca` list would rebuild it from every root at each connection.
    agent = new Agent({
      connect: { secureContext: tls.createSecureContext({ ca: [...tls.rootCertificates, ca], minVersion: 'TLSv1.2' }) },
    });
    agents.set(key, agent);
  }
  return agent;
}
