/**
 * The emulated `smtp.office365.com:587`: SMTP submission with STARTTLS and AUTH XOAUTH2, built on
 * smtp-server (which runs the protocol state machine) with Exchange Online's rules and wording:
 * - `AUTH XOAUTH2`: the token must carry SMTP.Send and `user=` must be the token's own mailbox
 *   (`535 5.7.3`); SMTP AUTH off for the tenant or mailbox gives the `535 5.7.139` replies;
 *   `AUTH LOGIN` is refused because basic authentication is disabled (`AUTH PLAIN` is not offered).
 * - With the emulator's basic authentication on for SMTP (`exchange/basic-auth.ts`), `AUTH PLAIN`
 *   and `AUTH LOGIN` take a directory user's password; wrong credentials give `535 5.7.3`, the
 *   SMTP AUTH settings apply as for XOAUTH2, and the session submits as the user's own mailbox.
 * - After the final dot: Send As for MAIL FROM and `From:` (`554 5.2.252 SendAsDenied`), the
 *   rolling-day recipient quota (`554 5.2.0`); the copy goes to the sender's Sent Items; delivery
 *   follows the 30-a-minute carry-over.
 * - More than 3 concurrent submissions of one mailbox: `432 4.3.2`.
 * - A mailbox throttled after continuous errors (a control-API fault): every MAIL FROM of its
 *   SMTP AUTH sessions answers `550 5.2.251`–`5.2.255 Sender throttled …` until the throttle ends;
 *   with the automatic rule on, `after` Send As denials in a row throttle the mailbox by themselves.
 *
 * @see ../../../shared/reference/microsoft-protocols.md §5, §6, §7
 * @see https://learn.microsoft.com/exchange/clients-and-mobile-in-exchange-online/authenticated-client-smtp-submission
 * @see https://www.rfc-editor.org/rfc/rfc4954 (SMTP AUTH), https://www.rfc-editor.org/rfc/rfc4616 (PLAIN)
 */
import { randomUUID } from 'node:crypto';
import {
  SMTPServer,
  type SMTPServerAddress,
  type SMTPServerAuthentication,
  type SMTPServerDataStream,
  type SMTPServerSession,
} from 'smtp-server';
import type { ExchangeAccess, SmtpAuthorization, SubmissionIdentity } from '../exchange/access.js';
import { BasicAuthSettings } from '../exchange/basic-auth.js';
import { extractAddresses } from '../exchange/address-list.js';
import type { ExchangeClock } from '../exchange/exchange-clock.js';
import type { ExchangeFaults, SendAsDenialForm } from '../exchange/faults.js';
import type { MailRouter } from '../exchange/mail-router.js';
import { parseHeaderBlock } from '../exchange/mime-structure.js';
import type { MailboxSendSizeLimits } from '../exchange/send-size-limits.js';
import { DeliveryQueue } from './delivery-queue.js';
import { translateReply, type DialectContext } from './exchange-dialect.js';
import { SMTP_REPLY } from './replies.js';
import { SubmissionLimits } from './submission-limits.js';

type SmtpConnection = SMTPServer['connections'] extends Set<infer C> ? C : never;

export interface SubmissionServerOptions {
  readonly router: MailRouter;
  readonly access: ExchangeAccess;
  readonly clock: ExchangeClock;
  readonly faults: ExchangeFaults;
  readonly tls: { readonly key: string | Buffer; readonly cert: string | Buffer };
  readonly host?: string;
  readonly port?: number;
  /** The server name in the greeting and replies. */
  readonly hostname?: string;
  readonly limits?: SubmissionLimits;
  /** Recipients per message (Exchange default 500). */
  readonly maxRecipients?: number;
  /** Whether `AUTH PLAIN` / `AUTH LOGIN` take passwords (read at each attempt). Default: off, as Exchange Online. */
  readonly basicAuth?: BasicAuthSettings;
  /** Per-mailbox MaxSendSize, checked after the final dot. */
  readonly sendSize?: MailboxSendSizeLimits;
}

/** An SMTP error reply: code and text (which starts with its enhanced status code). */
class SmtpReplyError extends Error {
  constructor(
    readonly responseCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'SmtpReplyError';
  }
}

interface SessionState {
  identity?: SubmissionIdentity;
  submitting: boolean;
  connection?: SmtpConnection;
}

/** smtp-server whose connections speak Exchange's dialect. */
class ExchangeSmtpServer extends SMTPServer {
  dialect: ((connection: SmtpConnection) => void) | undefined;

  override connect(...args: Parameters<SMTPServer['connect']>): void {
    super.connect(...args);
    const connection = [...this.connections].pop();
    if (connection && this.dialect) this.dialect(connection);
  }
}

export class SubmissionServer {
  readonly limits: SubmissionLimits;
  readonly queue: DeliveryQueue;
  private readonly server: ExchangeSmtpServer;
  private readonly sessions = new Map<string, SessionState>();
  private readonly hostname: string;
  private readonly basicAuth: BasicAuthSettings;

  constructor(private readonly options: SubmissionServerOptions) {
    this.hostname = options.hostname ?? 'SY5P282CA0097.outlook.office365.com';
    this.basicAuth = options.basicAuth ?? new BasicAuthSettings();
    this.limits = options.limits ?? new SubmissionLimits(options.clock);
    this.queue = new DeliveryQueue(options.router, options.clock);
    this.server = new ExchangeSmtpServer({
      name: this.hostname,
      key: options.tls.key,
      cert: options.tls.cert,
      secure: false,
      // PLAIN is answered as unknown while basic authentication is off (see speakExchange).
      authMethods: ['LOGIN', 'PLAIN', 'XOAUTH2'],
      authOptional: false,
      allowInsecureAuth: false,
      disableReverseLookup: true,
      size: 157_286_400,
      maxRecipients: options.maxRecipients ?? 500,
      logger: false,
      onAuth: (auth, session, callback) => {
        this.authenticate(auth, session).then(
          (mailbox) => callback(null, { user: mailbox }),
          (error: Error) => callback(error),
        );
      },
      onMailFrom: (address, session, callback) => {
        try {
          this.beginTransaction(address, session);
          callback();
        } catch (error) {
          callback(error instanceof Error ? error : new Error(String(error)));
        }
      },
      onData: (stream, session, callback) => {
        this.submit(stream, session).then(
          (reply) => callback(null, reply),
          (error: Error) => callback(error),
        );
      },
      onClose: (session) => {
        this.endTransaction(session.id);
        this.sessions.delete(session.id);
      },
    });
    this.server.dialect = (connection) => this.speakExchange(connection);
    this.server.on('error', () => undefined);
  }

  async listen(): Promise<{ host: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      this.server.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => {
        this.server.server.off('error', reject);
        resolve();
      });
    });
    this.queue.start();
    return this.address;
  }

  get address(): { host: string; port: number } {
    const info = this.server.server.address();
    if (info === null || typeof info === 'string') throw new Error('SMTP server is not listening');
    return { host: info.address, port: info.port };
  }

  async close(): Promise<void> {
    this.queue.stop();
    for (const connection of this.server.connections) connection.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private state(id: string): SessionState {
    let state = this.sessions.get(id);
    if (!state) {
      state = { submitting: false };
      this.sessions.set(id, state);
    }
    return state;
  }

  private speakExchange(connection: SmtpConnection): void {
    const dialect: DialectContext = {
      host: this.hostname,
      now: () => this.options.clock.now(),
      secure: () => connection.secure,
      clientIp: () => connection.remoteAddress.replace(/^::ffff:/, ''),
      basicAuth: () => this.basicAuth.smtp,
    };
    const send = connection.send.bind(connection);
    connection.send = (code, data, context) => {
      const reply = translateReply(code, data, context, dialect);
      send(reply.code, reply.data, false);
    };
    const reset = connection.handler_RSET.bind(connection);
    connection.handler_RSET = (command, callback) => {
      this.endTransaction(connection.session.id);
      reset(command, callback);
    };
    const auth = connection.handler_AUTH.bind(connection);
    connection.handler_AUTH = (command, callback) => {
      // Exchange Online does not offer PLAIN: smtp-server's own reply for a mechanism it lacks,
      // after its STARTTLS and identity-change checks, as when PLAIN is not configured at all.
      const plain = /^AUTH\s+PLAIN(\s|$)/i.test(command.toString().trim());
      if (plain && !this.basicAuth.smtp && connection.secure && !connection.session.user) {
        connection.send(504, 'Error: Unrecognized authentication type');
        callback();
        return;
      }
      auth(command, callback);
    };
    this.state(connection.session.id).connection = connection;
  }

  private async authenticate(auth: SMTPServerAuthentication, session: SMTPServerSession): Promise<string> {
    const now = this.options.clock.now();
    let decision: SmtpAuthorization;
    if (auth.method === 'XOAUTH2') {
      decision = await this.options.access.authorizeSmtp({ user: auth.username ?? '', token: auth.accessToken ?? '' });
    } else if (!this.basicAuth.smtp) {
      throw new SmtpReplyError(535, SMTP_REPLY.basicAuthDisabled);
    } else {
      // smtp-server falls back to the authzid when PLAIN's authcid is empty; RFC 4616 does not.
      const user = auth.method === 'PLAIN' ? (auth.authcid ?? '') : (auth.username ?? '');
      decision = this.options.access.authorizeSmtpPassword({
        user,
        password: auth.password ?? '',
        authzid: auth.authzid,
      });
    }
    switch (decision.outcome) {
      case 'refused':
        throw new SmtpReplyError(535, SMTP_REPLY.authFailed(this.hostname, now));
      case 'smtp-auth-disabled':
        throw new SmtpReplyError(
          535,
          decision.scope === 'tenant'
            ? SMTP_REPLY.smtpAuthDisabledTenant(this.hostname)
            : SMTP_REPLY.smtpAuthDisabledMailbox,
        );
      case 'authenticated':
        this.state(session.id).identity = { mailbox: decision.mailbox, principal: decision.principal };
        return decision.mailbox;
    }
  }

  private beginTransaction(_address: SMTPServerAddress, session: SMTPServerSession): void {
    const state = this.state(session.id);
    const identity = state.identity;
    if (!identity) throw new SmtpReplyError(530, SMTP_REPLY.notAuthenticated);
    const throttled = this.options.faults.takeSenderThrottle(identity.mailbox, this.options.clock.now());
    if (throttled !== undefined) throw new SmtpReplyError(550, SMTP_REPLY.senderThrottled[throttled]);
    const fault = this.options.faults.takeSmtpFailure();
    if (fault) {
      const connection = state.connection;
      if (fault.code === 421 && connection) setImmediate(() => connection.close());
      throw new SmtpReplyError(fault.code, fault.text);
    }
    if (state.submitting) return;
    if (!this.limits.beginSubmission(identity.mailbox)) throw new SmtpReplyError(432, SMTP_REPLY.senderThreadLimit);
    state.submitting = true;
  }

  /** A message within the advertised SIZE but over a mailbox's own MaxSendSize: refused after DATA. */
  private checkSendSize(mailbox: string, senders: readonly string[], size: number): void {
    const limits = this.options.sendSize;
    if (limits === undefined) return;
    const mailboxes = [mailbox, ...senders.map((sender) => this.options.access.resolveMailbox(sender))];
    if (limits.exceeded(mailboxes, size) === undefined) return;
    if (limits.form === '5.2.0') throw new SmtpReplyError(554, SMTP_REPLY.maxSubmissionExceeded(this.hostname));
    throw new SmtpReplyError(552, SMTP_REPLY.messageTooBig);
  }

  private endTransaction(sessionId: string): void {
    const state = this.sessions.get(sessionId);
    if (!state?.submitting || !state.identity) return;
    state.submitting = false;
    this.limits.endSubmission(state.identity.mailbox);
  }

  /** Runs after the final dot: checks, Sent Items copy, delivery (now or carried over). */
  private async submit(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<string> {
    try {
      const raw = await readStream(stream);
      if (stream.sizeExceeded) throw new SmtpReplyError(552, SMTP_REPLY.messageTooBig);
      const identity = this.state(session.id).identity;
      if (!identity) throw new SmtpReplyError(530, SMTP_REPLY.notAuthenticated);
      if (this.options.faults.smtpDelayMs > 0)
        await new Promise((resolve) => setTimeout(resolve, this.options.faults.smtpDelayMs));
      const mailFrom = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
      const headerEnd = findHeaderEnd(raw);
      const headers = parseHeaderBlock(raw, 0, headerEnd);
      const fromHeader = headers.find((h) => h.key === 'from')?.value;
      const senders = [mailFrom, ...(fromHeader === undefined ? [] : extractAddresses(fromHeader).slice(0, 1))].filter(
        (a) => a !== '',
      );
      for (const sender of senders) {
        const decision = this.options.access.checkSendAs(identity, sender);
        if (decision === 'logon-failure') throw new SmtpReplyError(430, SMTP_REPLY.mailboxLogonFailure(this.hostname));
        if (decision === 'denied') {
          this.options.faults.noteSendAs(identity.mailbox, true, this.options.clock.now());
          throw sendAsDenial(this.options.faults.sendAsDenialForm, identity.mailbox, sender, this.hostname);
        }
      }
      this.options.faults.noteSendAs(identity.mailbox, false, this.options.clock.now());
      this.checkSendSize(identity.mailbox, senders, raw.length);
      const recipients = session.envelope.rcptTo.map((r) => r.address);
      if (!this.limits.takeRecipients(identity.mailbox, recipients.length))
        throw new SmtpReplyError(554, SMTP_REPLY.submissionQuotaExceeded(this.hostname));
      const { message, messageId } = completeHeaders(
        raw,
        headerEnd,
        headers.map((h) => h.key),
        this.hostname,
        this.options.clock.now(),
      );
      const record = this.options.router.recordSubmission({
        via: 'smtp',
        mailbox: identity.mailbox,
        envelopeFrom: mailFrom,
        recipients,
        raw: message,
      });
      this.queue.enqueue(record, this.limits.scheduleDelivery(identity.mailbox));
      return SMTP_REPLY.queued(messageId, this.hostname);
    } finally {
      this.endTransaction(session.id);
    }
  }
}

async function readStream(stream: SMTPServerDataStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks);
}

function findHeaderEnd(raw: Buffer): number {
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  if (crlf === -1 && lf === -1) return raw.length;
  if (crlf === -1) return lf + 2;
  if (lf === -1 || crlf < lf) return crlf + 4;
  return lf + 2;
}

/** Adds Message-ID and Date when the client left them out, as Exchange does. */
function completeHeaders(
  raw: Buffer,
  headerEnd: number,
  present: readonly string[],
  host: string,
  now: number,
): { message: Buffer; messageId: string } {
  const added: string[] = [];
  const existing = parseHeaderBlock(raw, 0, headerEnd)
    .find((h) => h.key === 'message-id')
    ?.value.trim();
  const messageId = existing ?? `<${randomUUID().replace(/-/g, '').toUpperCase()}@${host.toLowerCase()}>`;
  if (!present.includes('message-id')) added.push(`Message-ID: ${messageId}\r\n`);
  if (!present.includes('date')) added.push(`Date: ${new Date(now).toUTCString().replace('GMT', '+0000')}\r\n`);
  if (added.length === 0) return { message: raw, messageId };
  return { message: Buffer.concat([Buffer.from(added.join(''), 'latin1'), raw]), messageId };
}

/** A Send As denial in the wording the faults ask for. */
function sendAsDenial(form: SendAsDenialForm, login: string, sender: string, host: string): SmtpReplyError {
  if (form === '5.7.60') return new SmtpReplyError(550, SMTP_REPLY.sendAsDeniedClient(host));
  if (form === '5.2.0') return new SmtpReplyError(554, SMTP_REPLY.sendAsDeniedStoreDriver(host));
  return new SmtpReplyError(554, SMTP_REPLY.sendAsDenied(login, sender, host));
}
