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
 * - bodies are read with a cap, so a hostile or broken answer cannot fill the memory.
 *
 * @see https://learn.microsoft.com/graph/throttling
 * @see https://learn.microsoft.com/graph/throttling-limits#outlook-service-limits (4 concurrent requests per app and mailbox)
 */
import { createHash } from 'node:crypto';
import tls from 'node:tls';
import { Agent, fetch as undiciFetch, type Response } from 'undici';
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

  /** Sends a request and returns the successful answer (its body unread), or throws the catalogue error. */
  async send(request: GraphRequest): Promise<Response> {
    const url = this.urlOf(request.path, request.preauthenticated === true);
    let throttledFor = 0;
    let serverErrors = 0;
    let refreshed = false;
    for (;;) {
      const response = await this.gate.run(() => this.once(url, request), this.options.signal);
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

function linkRefused(mailbox: string, why: string): PosternError {
  return new PosternError('GRAPH_REQUEST_FAILED', {
    message: `Microsoft Graph gave a link that Postern does not follow: it ${why} (mailbox ${mailbox}).`,
    details: { mailbox },
  });
}

/** Reads a body up to `max` bytes; a longer one is refused without reading the rest. */
async function readCapped(response: Response, max: number, context: { mailbox: string }): Promise<Buffer> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > max) {
    await response.body?.cancel();
    throw tooLarge(declared, max, context.mailbox);
  }
  if (response.body === null) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of response.body) {
    total += (chunk as Uint8Array).byteLength;
    if (total > max) {
      await response.body.cancel().catch(() => undefined);
      throw tooLarge(total, max, context.mailbox);
    }
    chunks.push(Buffer.from(chunk as Uint8Array));
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

/** A counting gate: at most N calls at a time, the rest wait in order. */
class Gate {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async run<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.active >= this.limit) {
      await new Promise<void>((resolve, reject) => {
        const go = (): void => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = (): void => {
          const index = this.waiting.indexOf(go);
          if (index >= 0) this.waiting.splice(index, 1);
          reject(stopped());
        };
        this.waiting.push(go);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    } else {
      this.active += 1;
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next === undefined) this.active -= 1;
      else next();
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
