/**
 * The one place an IMAP client is built — for the mailbox sync, the connection test and the
 * doctor's probe alike: implicit TLS with the route's trust, the caller's credentials, imapflow's
 * log calls in Postern's logger, every network step under a timeout, and **always** a listener for
 * imapflow's `'error'` event. imapflow emits that event when an open session fails (a reset
 * connection, a socket timeout); an EventEmitter `'error'` without a listener is thrown and ends
 * the process. Here it is logged, and the failure reaches the caller through the command it was
 * waiting for (rejected with `NoConnection`) or the `'close'` event.
 *
 * @see https://imapflow.com/module-imapflow-ImapFlow.html (options, 'error' and 'close' events)
 * @see https://nodejs.org/api/events.html#error-events
 */
import { ImapFlow, type Logger as ImapFlowLogger } from 'imapflow';
import { trustOptions } from './tls-trust.js';

/** The log calls the factory makes (Postern's pino logger, or the sync's). */
export interface ProtocolLogger {
  debug(object: object, message?: string): void;
  warn(object: object, message?: string): void;
}

/** How long each network step may take. */
export interface ImapTimeouts {
  readonly connectionMs: number;
  readonly greetingMs: number;
  /** Inactivity on an open socket while a command waits for its answer. */
  readonly socketMs: number;
}

/** Short-lived sessions (connection test, doctor): a person is waiting for the answer. */
export const PROBE_TIMEOUTS: ImapTimeouts = { connectionMs: 20_000, greetingMs: 20_000, socketMs: 30_000 };

/** Options of {@link createImapClient}. */
export interface ImapClientOptions {
  readonly host: string;
  readonly port: number;
  /** An extra CA (PEM) besides the system's; the name on the certificate when `host` is an address. */
  readonly tls?: {
    readonly ca?: string | Buffer | null;
    readonly servername?: string;
    readonly rejectUnauthorized?: boolean;
  };
  /** SASL XOAUTH2 with an access token, or LOGIN/PLAIN with a password. */
  readonly auth:
    { readonly user: string; readonly accessToken: string } | { readonly user: string; readonly pass: string };
  /** Where imapflow's log calls go; none when absent. */
  readonly logger?: ProtocolLogger;
  readonly timeouts?: ImapTimeouts;
  /** Told of each `'error'` event, after it is logged. */
  readonly onError?: (error: unknown) => void;
  /**
   * Told when the server throttles a command, with its suggested backoff. Exchange often follows
   * the throttling answer with `* BYE`: the command is then rejected as a lost connection, and
   * this is the only place the suggestion survives (imapflow reports it in its log calls).
   */
  readonly onThrottle?: (suggestedMs: number) => void;
}

/** Creates (does not connect) an IMAP client; see the module comment. */
export function createImapClient(options: ImapClientOptions): ImapFlow {
  const timeouts = options.timeouts ?? PROBE_TIMEOUTS;
  const tls = options.tls ?? {};
  const client = new ImapFlow({
    host: options.host,
    port: options.port,
    secure: true,
    ...(tls.servername === undefined ? {} : { servername: tls.servername }),
    tls: {
      ...trustOptions(tls.ca),
      ...(tls.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: tls.rejectUnauthorized }),
    },
    auth: { ...options.auth },
    logger:
      options.logger === undefined && options.onThrottle === undefined
        ? false
        : imapflowLogger(options.logger, options.onThrottle),
    // Postern decides when to IDLE (the sync's watch loop); a short session never needs it.
    disableAutoIdle: true,
    clientInfo: { name: 'Postern' },
    connectionTimeout: timeouts.connectionMs,
    greetingTimeout: timeouts.greetingMs,
    socketTimeout: timeouts.socketMs,
  });
  client.on('error', (error: unknown) => {
    // The code only: an imapflow error may carry the command it ended, AUTHENTICATE's token included.
    options.logger?.debug({ component: 'imapflow', code: codeOf(error) }, 'IMAP connection error');
    options.onError?.(error);
  });
  return client;
}

function codeOf(error: unknown): string | undefined {
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/**
 * imapflow's log calls, at debug level (its warnings and errors at warn), in the caller's logger;
 * its "Throttling detected" entry (with `throttleDelay`, the server's suggestion) also to `onThrottle`.
 */
function imapflowLogger(
  logger: ProtocolLogger | undefined,
  onThrottle: ((suggestedMs: number) => void) | undefined,
): ImapFlowLogger {
  const forward =
    (level: 'debug' | 'warn') =>
    (entry: unknown): void => {
      const fields: Record<string, unknown> =
        typeof entry === 'object' && entry !== null ? { ...entry } : { msg: String(entry) };
      const message = typeof fields.msg === 'string' ? fields.msg : 'imapflow';
      delete fields.msg;
      if (typeof fields.throttleDelay === 'number' && fields.throttleDelay > 0) onThrottle?.(fields.throttleDelay);
      logger?.[level]({ component: 'imapflow', ...fields }, message);
    };
  return { debug: forward('debug'), info: forward('debug'), warn: forward('warn'), error: forward('warn') };
}
