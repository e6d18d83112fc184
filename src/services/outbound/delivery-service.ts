/**
 * Delivers one claimed outbox row: finds how the account submits — SMTP (its SMTP host, the grant
 * of its modern authentication email, a fresh access token) or, for an account of transport
 * `graph`, Microsoft Graph (the Graph sender, mail/graph/graph-sender.ts) — submits the stored MIME, and
 * records the outcome with an event — `sent` with the server's reply; a temporary failure queued
 * again after a growing delay until the account's retry window ends; a permanent failure `failed`
 * at once with the diagnosis, also put on the account's timeline when a person must act.
 *
 * Shared mailboxes: the XOAUTH2 identity (`user=`) is the delegate whose grant is used — Exchange
 * refuses the shared address as the SMTP login — while MAIL FROM and From are the shared address,
 * so the mailbox sends as itself (Send As). No copy is appended to Sent Items: Exchange saves SMTP
 * submissions there itself. Through Graph, the path is the shared mailbox (`/users/{shared}`),
 * the token the delegate's, and Graph files the copy in the shared mailbox's Sent Items.
 *
 * The bookkeeping is the same for both transports: the outcome is recorded under the claim, a
 * submission that reached the server counts in the sliding minute, recipients are given back when
 * the server refused the message, and a temporary failure waits at least as long as the server
 * asked (Graph's `Retry-After` on 429).
 *
 * @see ../../../shared/reference/microsoft-protocols.md §5, §6, §7
 * @see https://learn.microsoft.com/exchange/clients-and-mobile-in-exchange-online/authenticated-client-smtp-submission
 */
import {
  decideRetry,
  MAX_RETRY_AFTER_MS,
  DEFAULT_RETRY_POLICY,
  SENDER_THROTTLE_HOLD_MS,
  type RetryPolicy,
} from '../../domain/outbox-policy.js';
import { PosternError, isPosternError } from '../../errors/index.js';
import type { Logger } from '../../log/index.js';
import { requireSmtp } from '../../mail/access/mailbox-route.js';
import type { SmtpEndpoint } from '../../mail/access/smtp-transport.js';
import { loadCa } from '../../mail/access/tls-trust.js';
import type { GraphSender } from '../../mail/graph/graph-sender.js';
import type { SmtpCredentials, SubmissionRequest, SubmissionResult } from '../../mail/smtp/submission.js';
import {
  appendEvent,
  fromDbTime,
  getMessageRaw,
  getOutboxRow,
  getSendingSettings,
  holdAccountSending,
  markOutboxFailed,
  markOutboxSent,
  openEmailAccountPassword,
  recordSubmissionEnd,
  refundRecipients,
  requireEmailAccount,
  scheduleOutboxRetry,
  type Database,
  type EmailAccountRecord,
  type GrantRecord,
  type OutboxError,
  type OutboxRecord,
  type SecretBox,
} from '../../store/index.js';
import { MIN_VALIDITY_MS, type AccessToken } from '../identity/access-token-service.js';
import { mailboxRouteOf } from '../accounts/mailbox-connection.js';
import type { SendSwitchDecision } from '../accounts/transport-switch.js';
import { readTokenClaims } from '../doctor/token-claims.js';

/** Submits a message; the SMTP adapter (or, later, another transport). */
export interface Submitter {
  submit(request: SubmissionRequest): Promise<SubmissionResult>;
}

/** A Graph sender for an account's mailbox (graphClientOf with purpose `send`). */
export type GraphSenderFactory = (account: EmailAccountRecord) => Promise<Pick<GraphSender, 'send'>>;

/** What the delivery service needs from the rest of Postern. */
export interface DeliveryDeps {
  readonly db: Database;
  readonly box: SecretBox;
  readonly submitter: Submitter;
  /** The grant an account signs in with (AccountService.grantFor). */
  readonly grantFor: (account: EmailAccountRecord) => Promise<GrantRecord>;
  /** An Exchange access token for a grant (AccessTokenService.accessToken). */
  readonly accessToken: (grantId: number, resource: 'exchange') => Promise<AccessToken>;
  /** Refreshes a grant's Exchange token now (AccessTokenService.refreshNow), after Exchange refused the cached one. */
  readonly refreshToken?: (grantId: number, resource: 'exchange') => Promise<void>;
  /** Builds the Graph sender of an account that sends through Graph; without it such accounts fail. */
  readonly graphSender?: GraphSenderFactory;
  /**
   * Transport `auto`: after SMTP refused the sign-in (535 5.7.139; 535 5.7.3 for an app-only
   * grant), tries the message in hand through Graph with `trial` and switches the account's sending
   * to Graph once Graph accepted it (TransportSwitchService.afterSmtpRefused); otherwise answers the
   * refusal, its remedy naming what would allow it.
   */
  readonly switchToGraph?: (
    account: EmailAccountRecord,
    refusal: PosternError,
    trial: () => Promise<SubmissionResult>,
  ) => Promise<SendSwitchDecision<SubmissionResult>>;
  readonly logger: Logger;
  readonly retryPolicy?: RetryPolicy;
  /** A number in [0, 1), for retry jitter. */
  readonly random?: () => number;
}

/** What happened to one delivery. */
export type DeliveryOutcome =
  | { readonly kind: 'sent'; readonly response: string }
  | { readonly kind: 'retry'; readonly at: Date; readonly error: PosternError }
  | { readonly kind: 'failed'; readonly error: PosternError }
  /** The claim was no longer current when the outcome came back; nothing was recorded. */
  | { readonly kind: 'stale' };

/** The first wait, doubling to the last, while the store cannot write (a held delivery). */
const STORE_WAIT_FIRST_MS = 500;
const STORE_WAIT_MAX_MS = 15_000;

/** How long an account's route (server, trust, identity) is reused. */
const ROUTE_TTL_MS = 10_000;

/** How one account submits over SMTP. */
interface SmtpRoute {
  readonly kind: 'smtp';
  readonly account: EmailAccountRecord;
  readonly endpoint: SmtpEndpoint;
  readonly concurrency: number;
  /** The grant that signs in, or null for a password account. */
  readonly grant: GrantRecord | null;
  readonly password: string | null;
}

/** How one account submits through Microsoft Graph. */
interface GraphRoute {
  readonly kind: 'graph';
  readonly account: EmailAccountRecord;
  readonly sender: Pick<GraphSender, 'send'>;
}

type Route = SmtpRoute | GraphRoute;

/** Submits claimed rows and records their outcome. */
export class DeliveryService {
  private readonly routes = new Map<number, { expires: number; route: Route }>();
  private readonly tokens = new Map<number, AccessToken>();

  constructor(private readonly deps: DeliveryDeps) {}

  /**
   * Submits one claimed row and records what happened. Never throws for a delivery failure.
   *
   * A store that cannot read or write (a full disk, a read-only file, PostgreSQL gone away) is not
   * the message's failure: the delivery is held, the claim kept (the dispatcher renews its lease),
   * and tried again as the store comes back. Before the submission that means submitting later;
   * after the server accepted the message, only its bookkeeping is retried — the message is never
   * submitted twice for it. Throws the storage error only when `signal` aborts meanwhile (the
   * dispatcher stopping): the claim is then released when its lease ends, as after a crash.
   */
  async deliver(row: OutboxRecord, claimer: string, signal?: AbortSignal): Promise<DeliveryOutcome> {
    let result: SubmissionResult | undefined;
    for (let wait = STORE_WAIT_FIRST_MS; result === undefined; wait = Math.min(wait * 2, STORE_WAIT_MAX_MS)) {
      try {
        const route = await this.routeOf(row.accountId);
        result = route.kind === 'graph' ? await this.sendByGraph(route, row) : await this.submitOrSwitch(route, row);
      } catch (error) {
        const storage = this.deps.db.health.failed(error, 'outbox');
        if (storage === undefined)
          return this.untilStored(row, signal, () => this.recordFailure(row, claimer, asPosternError(error)));
        await this.waitForStore(row, storage, wait, signal);
        if (!(await this.untilStored(row, signal, () => stillClaimed(this.deps.db, row.id, claimer), 'read')))
          return { kind: 'stale' };
      }
    }
    const accepted = result;
    return this.untilStored(row, signal, () => this.recordSent(row, accepted));
  }

  /** Runs a store step until it is not refused for a storage reason (see {@link deliver}). */
  private async untilStored<T>(
    row: OutboxRecord,
    signal: AbortSignal | undefined,
    step: () => Promise<T>,
    kind: 'read' | 'write' = 'write',
  ): Promise<T> {
    for (let wait = STORE_WAIT_FIRST_MS; ; wait = Math.min(wait * 2, STORE_WAIT_MAX_MS)) {
      try {
        const done = await step();
        if (kind === 'write') this.deps.db.health.succeeded('outbox');
        return done;
      } catch (error) {
        const storage = this.deps.db.health.failed(error, 'outbox');
        if (storage === undefined) throw error;
        await this.waitForStore(row, storage, wait, signal);
      }
    }
  }

  /** Waits before trying the store again; throws the storage error once `signal` aborts. */
  private async waitForStore(
    row: OutboxRecord,
    storage: PosternError,
    ms: number,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    if (isAborted(signal)) throw storage;
    if (ms === STORE_WAIT_FIRST_MS)
      this.deps.logger.warn(
        { ...this.who(row.accountId), messageId: row.messageId, code: storage.code },
        'the store cannot write; the delivery is held until it can',
      );
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    });
    if (isAborted(signal)) throw storage;
  }

  /**
   * Submits over SMTP; on an account of transport `auto` whose SMTP sign-in Exchange refuses (535
   * 5.7.139, SMTP AUTH disabled; 535 5.7.3 for an app-only grant — nothing was accepted), this very
   * message is tried through Microsoft Graph in the same delivery, and sending switches to Graph
   * once Graph accepted it.
   */
  private async submitOrSwitch(route: SmtpRoute, row: OutboxRecord): Promise<SubmissionResult> {
    try {
      return await this.submitOnce(row);
    } catch (error) {
      if (
        route.account.transport !== 'auto' ||
        this.deps.switchToGraph === undefined ||
        this.deps.graphSender === undefined ||
        !(isPosternError(error, 'SMTP_AUTH_DISABLED') || isPosternError(error, 'SMTP_APP_NOT_REGISTERED'))
      )
        throw error;
      const graphSender = this.deps.graphSender;
      const trial = async (): Promise<SubmissionResult> =>
        this.sendByGraph({ kind: 'graph', account: route.account, sender: await graphSender(route.account) }, row);
      const decision = await this.deps.switchToGraph(route.account, error, trial);
      if (!decision.switched) throw decision.error;
      this.routes.delete(row.accountId);
      this.deps.logger.warn(
        { ...this.who(row.accountId), code: error.code },
        'Exchange refused the SMTP sign-in and Microsoft Graph accepted the message: sending switched to Graph',
      );
      return decision.sent;
    }
  }

  /**
   * Submits; when Exchange refuses the sign-in (535 5.7.3), the cached token may have been revoked
   * before its expiry: the token is refreshed and the submission made once more.
   */
  private async submitOnce(row: OutboxRecord): Promise<SubmissionResult> {
    const request = await this.request(row);
    try {
      return await this.deps.submitter.submit(request.submission);
    } catch (error) {
      // An app's token may also predate a role granted since (admin consent, SMTP.SendAsApp).
      if (
        !(isPosternError(error, 'SMTP_AUTH_FAILED') || isPosternError(error, 'SMTP_APP_NOT_REGISTERED')) ||
        request.grantId === null ||
        this.deps.refreshToken === undefined
      )
        throw error;
      this.deps.logger.warn(
        { ...this.who(row.accountId), grantId: request.grantId },
        'Exchange refused the cached token; refreshing it and trying once more',
      );
      await this.deps.refreshToken(request.grantId, 'exchange');
      this.tokens.delete(request.grantId);
      this.routes.delete(row.accountId);
      return this.deps.submitter.submit((await this.request(row)).submission);
    }
  }

  /**
   * Sends through Microsoft Graph. A refused token is refreshed once by the Graph client itself
   * (401 → refresh → the same request again), so nothing is repeated here: a second refusal is
   * GRAPH_AUTH_FAILED, for a person.
   */
  private async sendByGraph(route: GraphRoute, row: OutboxRecord): Promise<SubmissionResult> {
    return route.sender.send({ raw: await getMessageRaw(this.deps.db, row.messageId), recipients: row.envelope.to });
  }

  /** Everything the submitter needs: server, trust, identity, envelope and the stored bytes. */
  private async request(row: OutboxRecord): Promise<{ submission: SubmissionRequest; grantId: number | null }> {
    const route = await this.routeOf(row.accountId);
    if (route.kind !== 'smtp') throw new Error('an SMTP request for an account that sends through Graph');
    const credentials: SmtpCredentials =
      route.grant === null
        ? { kind: 'password', user: route.account.username, password: route.password ?? '' }
        : // The signed-in delegate for a shared mailbox; the mailbox itself for app-only access.
          await this.xoauth2(route.account, route.grant);
    return {
      submission: {
        poolKey: `account:${route.account.id}`,
        logBindings: { accountId: route.account.id, key: route.account.key },
        endpoint: route.endpoint,
        credentials,
        maxConnections: route.concurrency,
        envelope: row.envelope,
        raw: await getMessageRaw(this.deps.db, row.messageId),
      },
      grantId: route.grant?.id ?? null,
    };
  }

  /**
   * How an account submits: its SMTP server and trust, its concurrency, and who signs in. Kept for
   * a few seconds, so that a burst of messages does not read the same rows for each one; a change
   * of the account's settings applies within that time.
   */
  private async routeOf(accountId: number): Promise<Route> {
    const { db } = this.deps;
    const now = db.now().getTime();
    const cached = this.routes.get(accountId);
    if (cached !== undefined && cached.expires > now) return cached.route;
    const account = await requireEmailAccount(db, accountId);
    if (account.effective.outbound.via === 'graph') {
      if (this.deps.graphSender === undefined)
        throw new PosternError('INTERNAL', { message: 'This process cannot send through Microsoft Graph.' });
      const route: GraphRoute = { kind: 'graph', account, sender: await this.deps.graphSender(account) };
      this.routes.set(accountId, { expires: now + ROUTE_TTL_MS, route });
      return route;
    }
    const settings = await getSendingSettings(db, accountId);
    const resolved = await mailboxRouteOf(db, account);
    const endpoint: SmtpEndpoint = { ...requireSmtp(resolved), ca: loadCa(resolved.trust, 'smtp') };
    let route: SmtpRoute;
    if (resolved.signIn === 'xoauth2') {
      route = {
        kind: 'smtp',
        account,
        endpoint,
        concurrency: settings.concurrency,
        grant: await this.deps.grantFor(account),
        password: null,
      };
    } else {
      if (account.sealedPassword === null) {
        throw new PosternError('SMTP_AUTH_FAILED', {
          message: `Email account ${account.key} has neither Modern Authentication nor a password.`,
          remedy: "Set the account's password, or turn Modern Authentication on.",
        });
      }
      route = {
        kind: 'smtp',
        account,
        endpoint,
        concurrency: settings.concurrency,
        grant: null,
        password: openEmailAccountPassword(this.deps.box, account),
      };
    }
    this.routes.set(accountId, { expires: now + ROUTE_TTL_MS, route });
    return route;
  }

  /** The account's id and key for a log line (every line about an account carries both). */
  private who(accountId: number): { accountId: number; key?: string } {
    const key = this.routes.get(accountId)?.route.account.key;
    return key === undefined ? { accountId } : { accountId, key };
  }

  /**
   * XOAUTH2 as the grant's user, or for an app-only grant as the mailbox itself, with the app's ids
   * read from the token so that a refusal names the service principal to register.
   */
  private async xoauth2(account: EmailAccountRecord, grant: GrantRecord): Promise<SmtpCredentials> {
    const token = await this.tokenFor(grant.id);
    if (grant.upn !== null) return { kind: 'xoauth2', user: grant.upn, ...token };
    const claims = readTokenClaims(token.accessToken);
    return {
      kind: 'xoauth2',
      user: account.username,
      ...token,
      app: { appId: claims?.appId ?? null, objectId: claims?.objectId ?? null },
    };
  }

  /** The grant's Exchange token, reused while it has the token service's minimum validity left. */
  private async tokenFor(grantId: number): Promise<{ accessToken: string; expiresAt: Date }> {
    const cached = this.tokens.get(grantId);
    if (cached !== undefined && cached.expiresAt.getTime() - this.deps.db.now().getTime() >= MIN_VALIDITY_MS)
      return { accessToken: cached.token, expiresAt: cached.expiresAt };
    const token = await this.deps.accessToken(grantId, 'exchange');
    this.tokens.set(grantId, token);
    return { accessToken: token.token, expiresAt: token.expiresAt };
  }

  private async recordSent(row: OutboxRecord, result: SubmissionResult): Promise<DeliveryOutcome> {
    const { db } = this.deps;
    await db.transaction(async (tx) => {
      await recordSubmissionEnd(tx, row.accountId, tx.now());
      const recorded = await markOutboxSent(tx, row.id, { response: result.response, at: tx.now() });
      if (!recorded) return;
      await appendEvent(tx, {
        scope: 'message',
        scopeId: row.messageId,
        type: 'message.sent',
        message: `Sent to ${result.accepted.length} recipient(s): ${result.response}`,
        data: {
          outboxId: row.id,
          accountId: row.accountId,
          attempt: row.attempts,
          response: result.response,
          accepted: [...result.accepted],
        },
      });
      if (result.rejected.length > 0) {
        await appendEvent(tx, {
          scope: 'message',
          scopeId: row.messageId,
          type: 'message.recipients_rejected',
          level: 'warn',
          message: `The server refused ${result.rejected.length} recipient(s): ${result.rejected.map((r) => `${r.address} (${r.response})`).join('; ')}`,
          data: { rejected: result.rejected.map((r) => ({ address: r.address, response: r.response })) },
        });
      }
    });
    this.deps.logger.info(
      { ...this.who(row.accountId), messageId: row.messageId, attempt: row.attempts },
      'message sent',
    );
    return { kind: 'sent', response: result.response };
  }

  private async recordFailure(row: OutboxRecord, claimer: string, error: PosternError): Promise<DeliveryOutcome> {
    const { db } = this.deps;
    const now = db.now();
    const settings = await getSendingSettings(db, row.accountId);
    const summary: OutboxError = { code: error.code, message: error.message, remedy: error.remedy ?? null };
    const log = {
      ...this.who(row.accountId),
      messageId: row.messageId,
      attempt: row.attempts,
      code: error.code,
      response: error.details?.response,
    };
    if (error.code === 'SMTP_SENDER_THROTTLED') return this.holdAccount(row, claimer, error, now);
    if (error.kind === 'transient') {
      const decided = decideRetry({
        attempt: row.attempts,
        firstFailedAt: row.firstFailedAt === null ? now : fromDbTime(row.firstFailedAt),
        now,
        retryForMs: settings.retryForHours * 3_600_000,
        random: (this.deps.random ?? Math.random)(),
        policy: this.deps.retryPolicy ?? DEFAULT_RETRY_POLICY,
      });
      if (decided.kind === 'retry') {
        // Never sooner than the server asked (Graph's Retry-After on 429 and 503).
        const asked = retryAfterOf(error);
        const decision =
          asked !== null && decided.at.getTime() < now.getTime() + asked
            ? { at: new Date(now.getTime() + asked) }
            : decided;
        const recorded = await db.transaction(async (tx) => {
          if (reachedServer(error)) await recordSubmissionEnd(tx, row.accountId, now);
          if (!(await scheduleOutboxRetry(tx, row.id, claimer, { at: decision.at, now, error: summary }))) return false;
          await this.refundIfRefused(tx, row, error);
          await appendEvent(tx, {
            scope: 'message',
            scopeId: row.messageId,
            type: 'message.retry_scheduled',
            level: 'warn',
            message: `Attempt ${row.attempts} failed for now (${error.message}); next attempt at ${decision.at.toISOString()}.`,
            data: {
              outboxId: row.id,
              attempt: row.attempts,
              code: error.code,
              nextAttemptAt: decision.at.toISOString(),
              ...responseOf(error),
            },
          });
          return true;
        });
        this.deps.logger.warn(log, 'message failed for now, retry scheduled');
        return recorded ? { kind: 'retry', at: decision.at, error } : { kind: 'stale' };
      }
      const gaveUp = new PosternError('OUTBOX_RETRIES_EXHAUSTED', {
        message: `Not sent after ${row.attempts} attempts in ${settings.retryForHours} hours; the last attempt failed: ${error.message}`,
        remedy: error.remedy ?? undefined,
        details: { lastCode: error.code, attempts: row.attempts, ...responseOf(error) },
        cause: error,
      });
      return this.fail(row, claimer, gaveUp, now);
    }
    return this.fail(row, claimer, error, now);
  }

  /**
   * Exchange throttles every SMTP AUTH submission of the mailbox for a while (`550 5.2.25x Sender
   * throttled`): the message goes back to the queue, and the whole account's sending is held until
   * the hold ends — no retries into the block, which could extend it. The account's timeline tells
   * the cause and the remedy once per hold.
   */
  private async holdAccount(
    row: OutboxRecord,
    claimer: string,
    error: PosternError,
    now: Date,
  ): Promise<DeliveryOutcome> {
    const { db } = this.deps;
    const until = new Date(now.getTime() + SENDER_THROTTLE_HOLD_MS);
    const summary: OutboxError = { code: error.code, message: error.message, remedy: error.remedy ?? null };
    const recorded = await db.transaction(async (tx) => {
      await recordSubmissionEnd(tx, row.accountId, now);
      if (!(await scheduleOutboxRetry(tx, row.id, claimer, { at: until, now, error: summary }))) return false;
      await this.refundIfRefused(tx, row, error);
      const started = await holdAccountSending(
        tx,
        row.accountId,
        { until, code: error.code, message: error.message, remedy: error.remedy ?? null },
        now,
      );
      await appendEvent(tx, {
        scope: 'message',
        scopeId: row.messageId,
        type: 'message.retry_scheduled',
        level: 'warn',
        message: `Attempt ${row.attempts} was refused: ${error.message} The account's sending is held; next attempt at ${until.toISOString()}.`,
        data: {
          outboxId: row.id,
          attempt: row.attempts,
          code: error.code,
          nextAttemptAt: until.toISOString(),
          ...responseOf(error),
        },
      });
      if (started) {
        await appendEvent(tx, {
          scope: 'account',
          scopeId: row.accountId,
          type: 'account.sending_held',
          level: 'error',
          message: `Sending is held until ${until.toISOString()}: ${error.message}${error.remedy === undefined ? '' : ` ${error.remedy}`}`,
          data: {
            accountId: row.accountId,
            messageId: row.messageId,
            code: error.code,
            heldUntil: until.toISOString(),
            remedy: error.remedy ?? null,
            ...responseOf(error),
          },
        });
      }
      return true;
    });
    this.deps.logger.error(
      { ...this.who(row.accountId), messageId: row.messageId, code: error.code, response: error.details?.response },
      'Exchange throttles the sender; sending of the account held',
    );
    return recorded ? { kind: 'retry', at: until, error } : { kind: 'stale' };
  }

  private async fail(row: OutboxRecord, claimer: string, error: PosternError, now: Date): Promise<DeliveryOutcome> {
    const { db } = this.deps;
    const summary: OutboxError = { code: error.code, message: error.message, remedy: error.remedy ?? null };
    const recorded = await db.transaction(async (tx) => {
      if (reachedServer(error)) await recordSubmissionEnd(tx, row.accountId, now);
      if (!(await markOutboxFailed(tx, row.id, { claimer, now, error: summary }))) return false;
      await this.refundIfRefused(tx, row, error);
      const data = {
        outboxId: row.id,
        accountId: row.accountId,
        attempt: row.attempts,
        code: error.code,
        remedy: error.remedy ?? null,
        ...responseOf(error),
      };
      await appendEvent(tx, {
        scope: 'message',
        scopeId: row.messageId,
        type: 'message.failed',
        level: 'error',
        message: `Not sent: ${error.message}`,
        data,
      });
      if (error.kind === 'needs-admin') {
        await appendEvent(tx, {
          scope: 'account',
          scopeId: row.accountId,
          type: 'account.send_failed',
          level: 'error',
          message: `A message could not be sent: ${error.message}${error.remedy === undefined ? '' : ` ${error.remedy}`}`,
          data: { ...data, messageId: row.messageId },
        });
      }
      return true;
    });
    this.deps.logger.error(
      {
        ...this.who(row.accountId),
        messageId: row.messageId,
        attempt: row.attempts,
        code: error.code,
        response: error.details?.response,
      },
      'message failed',
    );
    return recorded ? { kind: 'failed', error } : { kind: 'stale' };
  }

  /**
   * A refusal by the server, or a failure before any connection (no token, no route), certainly
   * did not use the day's recipient room: give it back. A dropped connection might have.
   */
  private async refundIfRefused(tx: Database, row: OutboxRecord, error: PosternError): Promise<void> {
    if (row.lastAttemptAt === null) return;
    const responseCode =
      error.details?.responseCode ?? (error.code.startsWith('GRAPH_') ? error.details?.status : null);
    const refused = typeof responseCode === 'number' && responseCode >= 400;
    if (refused || !reachedServer(error))
      await refundRecipients(tx, row.accountId, fromDbTime(row.lastAttemptAt), row.recipientCount);
  }
}

/**
 * True when the attempt talked to the submission server: SMTP errors carry the host; a Graph
 * error carries the HTTP status of an answer, and a connection that failed may have delivered the
 * request before it did.
 */
function reachedServer(error: PosternError): boolean {
  const cause = error.code === 'OUTBOX_RETRIES_EXHAUSTED' && error.cause instanceof PosternError ? error.cause : error;
  if (cause.code.startsWith('GRAPH_'))
    return typeof cause.details?.status === 'number' || cause.code === 'GRAPH_CONNECTION_FAILED';
  return cause.code.startsWith('SMTP_') && cause.details?.host !== undefined;
}

function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/** True while `claimer`'s claim on the row is current: after a wait, nobody else took the row over. */
async function stillClaimed(db: Database, id: number, claimer: string): Promise<boolean> {
  const row = await getOutboxRow(db, id);
  return row?.state === 'sending' && row.claimedBy === claimer;
}

/**
 * How long the server asked to wait before trying again (Graph's Retry-After), if it did, at most
 * {@link MAX_RETRY_AFTER_MS}: nothing is scheduled further ahead than the policy's longest delay,
 * which is how a clock set back is told (domain/scheduled-time.ts).
 */
function retryAfterOf(error: PosternError): number | null {
  const value = error.details?.retryAfterMs;
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.min(value, MAX_RETRY_AFTER_MS) : null;
}

function responseOf(error: PosternError): { response?: string } {
  const response = error.details?.response;
  return typeof response === 'string' ? { response } : {};
}

/** Anything thrown while preparing or submitting, as a catalogue error (unknown ones are retried). */
function asPosternError(error: unknown): PosternError {
  if (isPosternError(error)) return error;
  return new PosternError('INTERNAL', {
    message: `Sending failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`,
    cause: error,
  });
}
