/**
 * SMTP submission on nodemailer's pooled transport, one pool per account: STARTTLS required
 * (port 587 speaks plain text until STARTTLS, and Exchange offers AUTH only after it), then
 * `AUTH XOAUTH2` with the delegate's access token — `user=` is the signed-in identity, never the
 * shared mailbox — and `MAIL FROM` the account's address. A message is submitted as the exact raw
 * MIME that was stored, with an explicit envelope (Bcc recipients live only there).
 *
 * The pool keeps at most `maxConnections` connections (the account's concurrent submissions);
 * nodemailer never re-queues a message by itself here (`maxRequeues: 0`): the outbox decides
 * retries, so that a message is sent again only by a decision that the database records.
 *
 * @see https://www.rfc-editor.org/rfc/rfc3207 (STARTTLS), https://www.rfc-editor.org/rfc/rfc4954 (SMTP AUTH)
 * @see https://www.rfc-editor.org/rfc/rfc5321#section-3.3 (mail transactions: MAIL FROM, RCPT TO, DATA)
 * @see https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth (SASL XOAUTH2)
 * @see https://nodemailer.com/smtp/pooled/ and https://nodemailer.com/smtp/oauth2/ (provisionCallback)
 */
import { createHash } from 'node:crypto';
import nodemailer, { type Mail } from 'nodemailer';
import type { Logger as NodemailerLogger } from 'nodemailer/lib/shared';
import type SMTPPool from 'nodemailer/lib/smtp-pool';
import type { Logger } from '../../log/index.js';
import { smtpConnectionOptions, type SmtpEndpoint, type SmtpTimeouts } from '../access/smtp-transport.js';
import { mapSmtpError, type AppSignIn } from './smtp-errors.js';

/** How to sign in: XOAUTH2 with an access token, or a password (non-Microsoft servers). */
export type SmtpCredentials =
  | {
      readonly kind: 'xoauth2';
      readonly user: string;
      readonly accessToken: string;
      readonly expiresAt: Date;
      /** Set for an app-only token (client credentials): how its refusals are read. */
      readonly app?: AppSignIn;
    }
  | { readonly kind: 'password'; readonly user: string; readonly password: string };

/** One message to submit. */
export interface SubmissionRequest {
  /** Messages with the same key share a pool (one per account). */
  readonly poolKey: string;
  readonly endpoint: SmtpEndpoint;
  readonly credentials: SmtpCredentials;
  /** At most this many connections (submissions at once) for the pool. */
  readonly maxConnections: number;
  readonly envelope: { readonly from: string; readonly to: readonly string[] };
  readonly raw: Buffer;
  /** Bound to the pool's protocol log lines, e.g. the account's `{ accountId, key }`. */
  readonly logBindings?: Readonly<Record<string, string | number>>;
}

/** What the server answered. */
export interface SubmissionResult {
  /** The reply to the final dot, e.g. `250 2.0.0 OK <id> [Hostname=…]`. */
  readonly response: string;
  readonly accepted: readonly string[];
  /** Recipients refused at RCPT TO while others were accepted, with the server's reply. */
  readonly rejected: ReadonlyArray<{ readonly address: string; readonly response: string }>;
}

/** Options of {@link SmtpSubmitter}. */
export interface SmtpSubmitterOptions {
  readonly logger?: Logger;
  /** The EHLO name. Default: the host's name as nodemailer finds it. */
  readonly clientName?: string;
  /** Give up on one submission after this long, whatever the server does. Default 5 minutes. */
  readonly submissionTimeoutMs?: number;
  /** Idle pooled connections close after this long. Default 2 minutes. */
  readonly idleTimeoutMs?: number;
  /**
   * How long connecting, the greeting and a silent socket may take. Default
   * {@link SUBMISSION_TIMEOUTS}: 30 s, 30 s, 2 minutes. Tests shorten them to meet a black hole quickly.
   */
  readonly timeouts?: SmtpTimeouts;
}

type PoolTransport = Mail<SMTPPool.SentMessageInfo, SMTPPool.Options>;

interface PoolEntry {
  readonly fingerprint: string;
  readonly transport: PoolTransport;
  /** The latest token handed in; new connections sign in with it. */
  token: { value: string; expiresAt: number } | null;
}

const DEFAULT_SUBMISSION_TIMEOUT_MS = 5 * 60_000;
/**
 * The submission's network steps: a server that does not accept the connection, or accepts it and
 * never greets (a black hole), fails the attempt after 30 s and the outbox retries later; an idle
 * socket in the middle of a transaction after 2 minutes.
 */
export const SUBMISSION_TIMEOUTS: SmtpTimeouts = { connectionMs: 30_000, greetingMs: 30_000, socketMs: 120_000 };

/** Submits messages; one nodemailer pool per account. */
export class SmtpSubmitter {
  private readonly pools = new Map<string, PoolEntry>();

  constructor(private readonly options: SmtpSubmitterOptions = {}) {}

  /**
   * Submits one message.
   *
   * @throws PosternError from the SMTP area (see smtp-errors.ts) when the server refuses it or
   *   cannot be reached.
   */
  async submit(request: SubmissionRequest): Promise<SubmissionResult> {
    const entry = this.poolFor(request);
    if (request.credentials.kind === 'xoauth2') {
      entry.token = { value: request.credentials.accessToken, expiresAt: request.credentials.expiresAt.getTime() };
    }
    const context = {
      host: request.endpoint.host,
      port: request.endpoint.port,
      login: request.credentials.user,
      from: request.envelope.from,
      ...(request.credentials.kind === 'xoauth2' && request.credentials.app !== undefined
        ? { app: request.credentials.app }
        : {}),
    };
    try {
      const info = await entry.transport.sendMail({
        envelope: { from: request.envelope.from, to: [...request.envelope.to] },
        raw: request.raw,
        signal: AbortSignal.timeout(this.options.submissionTimeoutMs ?? DEFAULT_SUBMISSION_TIMEOUT_MS),
      });
      return {
        response: info.response,
        accepted: info.accepted.map(String),
        rejected: (info.rejectedErrors ?? []).map((error: unknown) => ({
          address: rejectedAddress(error),
          response: readResponse(error),
        })),
      };
    } catch (error) {
      throw mapSmtpError(error, context);
    }
  }

  /** Closes one account's pool (its settings changed, or it was disabled). */
  closePool(poolKey: string): void {
    const entry = this.pools.get(poolKey);
    if (entry === undefined) return;
    this.pools.delete(poolKey);
    entry.transport.close();
  }

  /** Closes every pool; connections in the middle of a message finish it first. */
  close(): void {
    for (const key of [...this.pools.keys()]) this.closePool(key);
  }

  /** How many pools are open (for tests and metrics). */
  get poolCount(): number {
    return this.pools.size;
  }

  private poolFor(request: SubmissionRequest): PoolEntry {
    const fingerprint = fingerprintOf(request);
    const existing = this.pools.get(request.poolKey);
    if (existing !== undefined && existing.fingerprint === fingerprint) return existing;
    if (existing !== undefined) this.closePool(request.poolKey);
    const entry: PoolEntry = { fingerprint, transport: this.createTransport(request, () => entry.token), token: null };
    this.pools.set(request.poolKey, entry);
    this.options.logger?.debug(
      {
        poolKey: request.poolKey,
        host: request.endpoint.host,
        port: request.endpoint.port,
        login: request.credentials.user,
      },
      'SMTP pool opened',
    );
    return entry;
  }

  private createTransport(request: SubmissionRequest, currentToken: () => PoolEntry['token']): PoolTransport {
    const { endpoint, credentials } = request;
    const auth: SMTPPool.Options['auth'] =
      credentials.kind === 'password'
        ? { user: credentials.user, pass: credentials.password }
        : {
            type: 'OAuth2',
            user: credentials.user,
            provisionCallback: (_user, _renew, callback) => {
              const token = currentToken();
              if (token === null) callback(new Error('no access token was handed to the SMTP pool'));
              else callback(null, token.value, token.expiresAt);
            },
          };
    return nodemailer.createTransport({
      pool: true,
      ...smtpConnectionOptions(endpoint, this.options.timeouts ?? SUBMISSION_TIMEOUTS),
      auth,
      maxConnections: Math.max(1, request.maxConnections),
      maxMessages: 100,
      maxRequeues: 0,
      idleTimeout: this.options.idleTimeoutMs ?? 120_000,
      ...(this.options.clientName === undefined ? {} : { name: this.options.clientName }),
      // The SMTP exchange at debug level; nodemailer masks AUTH arguments ("/* secret */") and
      // the log's redaction catches any XOAUTH2 string besides.
      ...(this.options.logger === undefined
        ? { logger: false }
        : {
            logger: smtpLogger(
              this.options.logger.child({ component: 'smtp', pool: request.poolKey, ...request.logBindings }),
            ),
            debug: this.options.logger.isLevelEnabled('debug'),
          }),
    });
  }
}

/**
 * nodemailer's bunyan-style log calls in a pino logger: the SMTP exchange at debug, its errors at
 * warn, the message content left out.
 */
function smtpLogger(logger: Logger): NodemailerLogger {
  const forward =
    (level: 'debug' | 'warn') =>
    (...params: unknown[]): void => {
      const [first, message, ...args] = params;
      const { component, ...fields }: Record<string, unknown> =
        typeof first === 'object' && first !== null ? { ...first } : {};
      // The message itself is mail content, not protocol: only its size is logged.
      if (fields.tnx === 'message' && !('outByteCount' in fields)) return;
      if (typeof component === 'string') fields.part = component;
      const text = typeof first === 'string' ? first : typeof message === 'string' ? message : 'smtp';
      logger[level](fields, text, ...(typeof first === 'string' ? [message, ...args] : args));
    };
  return {
    trace: forward('debug'),
    debug: forward('debug'),
    info: forward('debug'),
    warn: forward('warn'),
    error: forward('warn'),
    fatal: forward('warn'),
  };
}

/** What makes a pool reusable: same server, trust, identity and size (not the token). */
function fingerprintOf(request: SubmissionRequest): string {
  const { endpoint, credentials } = request;
  const secret = credentials.kind === 'password' ? createHash('sha256').update(credentials.password).digest('hex') : '';
  const ca =
    endpoint.ca === null || endpoint.ca === undefined ? '' : createHash('sha256').update(endpoint.ca).digest('hex');
  return JSON.stringify([
    endpoint.host,
    endpoint.port,
    endpoint.tls ?? null,
    ca,
    credentials.kind,
    credentials.user.toLowerCase(),
    secret,
    request.maxConnections,
  ]);
}

function readResponse(error: unknown): string {
  const response: unknown = typeof error === 'object' && error !== null ? Reflect.get(error, 'response') : undefined;
  return typeof response === 'string' ? response : error instanceof Error ? error.message : String(error);
}

function rejectedAddress(error: unknown): string {
  const recipient: unknown = typeof error === 'object' && error !== null ? Reflect.get(error, 'recipient') : undefined;
  return typeof recipient === 'string' ? recipient : '';
}
