/**
 * Transport `auto`: each direction of an account starts on IMAP (reading) or SMTP (sending) and
 * switches to Microsoft Graph by itself when Exchange refuses that protocol for the mailbox and
 * Graph does not:
 *
 * - sending, when SMTP AUTH is disabled (`535 5.7.139`, SMTP_AUTH_DISABLED) or, for an app-only
 *   grant, when Exchange refuses the app's sign-in (`535 5.7.3`, SMTP_APP_NOT_REGISTERED: no service
 *   principal, the wrong object id, or no SMTP.SendAsApp for the mailbox). SMTP accepted nothing,
 *   so the message in hand is tried through Graph `sendMail`; only Graph's acceptance switches the
 *   direction — Graph has no trial send, and an app-only token without the Mail.Send role may still
 *   hold it for this mailbox through Exchange's RBAC for Applications, which only Graph knows.
 * - reading, when IMAP is disabled (`User is authenticated but not connected`, IMAP_NOT_CONNECTED)
 *   or, for an app-only grant, when Exchange refuses the app's IMAP sign-in (`NO AUTHENTICATE
 *   failed.`, IMAP_APP_NOT_REGISTERED): Graph must open the account's folder with the same grant.
 *
 * A grant whose token lacks the permission (delegated scopes are the last word; an app-only token's
 * missing role is not, see graph-access.ts) keeps the refusal's code, its remedy naming the
 * permission to add. When Graph itself refuses (403 ErrorAccessDenied: the mailbox outside the
 * app's RBAC scope, say), the refusal is remembered for {@link GRAPH_REFUSAL_MEMORY_MS} in this
 * process, so that each message or reconnection does not ask Graph again; the error then names
 * both ways out. The switch is stored on the account (migration 0019), told on its timeline
 * (`account.transport_switched`) and announced on `AccountService.changes`, which restarts the
 * mailbox worker on the Graph engine.
 *
 * @see https://learn.microsoft.com/exchange/permissions-exo/application-rbac
 * @see ../../../../shared/reference/microsoft-protocols.md §5, §6 (app-only IMAP/SMTP, RBAC)
 */
import { PosternError, isPosternError, type ErrorCode } from '../../errors/index.js';
import { findGraphFolder } from '../../mail/graph/graph-folders.js';
import { endpointsOf } from '../../providers/microsoft/authority.js';
import {
  appendEvent,
  requireEmailAccount,
  requireProvider,
  switchEffectiveTransport,
  type Database,
  type EmailAccountRecord,
} from '../../store/index.js';
import type { AccessTokenService } from '../identity/access-token-service.js';
import type { AccountService } from './account-service.js';
import {
  checkGraphPermission,
  mayBeGrantedByExchangeRbac,
  permissionRemedy,
  type GraphPermissionNeed,
  type MailDirection,
} from './graph-access.js';
import { graphClientOf } from './mailbox-connection.js';

/**
 * Exchange's refusals that switch a direction, and why, in the words the timeline, the account
 * page and the doctor use.
 */
const SWITCHING_REFUSALS: Partial<Record<ErrorCode, { readonly direction: MailDirection; readonly reason: string }>> = {
  IMAP_NOT_CONNECTED: { direction: 'inbound', reason: 'IMAP is disabled for the mailbox' },
  IMAP_APP_NOT_REGISTERED: {
    direction: 'inbound',
    reason: "Exchange refuses the app's IMAP sign-in (NO AUTHENTICATE failed.)",
  },
  SMTP_AUTH_DISABLED: { direction: 'outbound', reason: 'SMTP AUTH is disabled for the mailbox (535 5.7.139)' },
  SMTP_APP_NOT_REGISTERED: { direction: 'outbound', reason: "Exchange refuses the app's SMTP sign-in (535 5.7.3)" },
};

/** The direction a refusal of Exchange would switch to Graph, and why; undefined for any other error. */
export function switchingRefusal(
  error: PosternError,
): { readonly direction: MailDirection; readonly reason: string } | undefined {
  return SWITCHING_REFUSALS[error.code];
}

/** How long Graph's refusal of an account's direction is remembered before Graph is asked again. */
export const GRAPH_REFUSAL_MEMORY_MS = 3 * 60_000;

/** Graph's answers that say it will not serve the mailbox for this sign-in (as opposed to a passing failure). */
const GRAPH_REFUSALS: ReadonlySet<ErrorCode> = new Set([
  'GRAPH_ACCESS_DENIED',
  'GRAPH_AUTH_FAILED',
  'GRAPH_MAILBOX_NOT_FOUND',
  'GRAPH_PERMISSION_MISSING',
  'GRAPH_SEND_AS_DENIED',
]);

/** What an attempt to switch a direction decided. */
export type SwitchDecision =
  | { readonly switched: true; readonly account: EmailAccountRecord }
  /** The direction stays; `error` is the refusal, its remedy naming what would let it switch. */
  | { readonly switched: false; readonly error: PosternError };

/** What an attempt to switch sending decided: `sent` when the message in hand already left through Graph. */
export type SendSwitchDecision<T> =
  | { readonly switched: true; readonly account: EmailAccountRecord; readonly sent: T }
  | { readonly switched: false; readonly error: PosternError };

/** Graph's refusal of a direction, remembered: its error, and the remedy that would let Graph serve it. */
interface RememberedRefusal {
  readonly until: number;
  readonly graph: PosternError;
  readonly remedy: string | undefined;
}

/** Switches the directions of accounts of transport `auto` to Microsoft Graph. */
export class TransportSwitchService {
  private readonly refusals = new Map<string, RememberedRefusal>();

  constructor(
    private readonly db: Database,
    private readonly accounts: AccountService,
    private readonly accessTokens: AccessTokenService,
  ) {}

  /**
   * After SMTP refused an `auto` account's sign-in (535 5.7.139, or 535 5.7.3 for an app-only
   * grant): SMTP accepted nothing, so `trial` sends the message in hand through Graph, when the
   * grant may; accepted, sending switches to Graph and `sent` is Graph's answer — the message left
   * once. A passing failure of Graph (throttled, unavailable, the connection) is thrown as it is:
   * the outbox tries the message again later, from SMTP. Graph's refusal is remembered for a few
   * minutes and comes back as the message's error, naming both ways out.
   */
  async afterSmtpRefused<T>(
    account: EmailAccountRecord,
    refusal: PosternError,
    trial: () => Promise<T>,
  ): Promise<SendSwitchDecision<T>> {
    if (account.transport !== 'auto' || switchingRefusal(refusal)?.direction !== 'outbound')
      return { switched: false, error: refusal };
    const remembered = this.remembered(account.id, 'outbound');
    if (remembered !== undefined) return { switched: false, error: this.refusedByGraph(account, refusal, remembered) };
    const permission = await checkGraphPermission(this.deps(), account, 'outbound', this.then('outbound'));
    if (!permission.ok && !mayBeGrantedByExchangeRbac(permission))
      return { switched: false, error: this.withRemedy(refusal, permission.error) };
    let sent: T;
    try {
      sent = await trial();
    } catch (error) {
      if (!isPosternError(error) || !GRAPH_REFUSALS.has(error.code)) throw error;
      const need = permission.need;
      const held = await this.remember(account, 'outbound', error, need);
      return { switched: false, error: this.refusedByGraph(account, refusal, held) };
    }
    try {
      return { switched: true, account: await this.record(account, 'outbound', refusal), sent };
    } catch {
      // The message left through Graph: whatever the store says now, it must not be sent again.
      // The switch is recorded with the next message SMTP refuses.
      return { switched: true, account, sent };
    }
  }

  /**
   * After IMAP refused an `auto` account ("authenticated but not connected", or `NO AUTHENTICATE
   * failed.` for an app-only grant): switches reading to Graph when the grant may read through it
   * and Graph opens the account's folder — then IMAP itself is what the mailbox refuses. Otherwise
   * the refusal, its remedy extended with what would let Postern read through Graph.
   */
  async afterImapRefused(account: EmailAccountRecord, refusal: PosternError): Promise<SwitchDecision> {
    if (account.transport !== 'auto' || account.effective.inbound.via !== 'imap')
      return { switched: false, error: refusal };
    if (switchingRefusal(refusal)?.direction !== 'inbound') return { switched: false, error: refusal };
    const remembered = this.remembered(account.id, 'inbound');
    if (remembered !== undefined) return { switched: false, error: this.withGraphRemedy(refusal, remembered) };
    const permission = await checkGraphPermission(this.deps(), account, 'inbound', this.then('inbound'));
    if (!permission.ok && !mayBeGrantedByExchangeRbac(permission))
      return { switched: false, error: this.withRemedy(refusal, permission.error) };
    try {
      const client = await graphClientOf(this.db, this.accounts, this.accessTokens, account, { purpose: 'read' });
      if ((await findGraphFolder(client, account.folder)) === undefined) return { switched: false, error: refusal };
    } catch (error) {
      // Graph refuses the mailbox too: IMAP is not the (only) problem. For a user's sign-in the
      // IMAP remedy stands (FullAccess, the mailbox); an app may be let in by either way.
      if (!isPosternError(error) || !GRAPH_REFUSALS.has(error.code)) return { switched: false, error: refusal };
      const held = await this.remember(account, 'inbound', error, permission.need);
      return { switched: false, error: this.withGraphRemedy(refusal, held) };
    }
    return { switched: true, account: await this.record(account, 'inbound', refusal) };
  }

  /** Graph's refusal of a direction, while it is remembered. */
  private remembered(accountId: number, direction: MailDirection): RememberedRefusal | undefined {
    const key = `${direction}:${accountId}`;
    const held = this.refusals.get(key);
    if (held === undefined) return undefined;
    if (held.until > this.db.now().getTime()) return held;
    this.refusals.delete(key);
    return undefined;
  }

  /**
   * Remembers Graph's refusal, with the remedy that would let Graph serve the direction: for an
   * app-only grant refused access (403 ErrorAccessDenied), the application permission or the RBAC
   * for Applications role for this mailbox, with the app's id; otherwise Graph's own remedy.
   */
  private async remember(
    account: EmailAccountRecord,
    direction: MailDirection,
    graph: PosternError,
    need: GraphPermissionNeed | null,
  ): Promise<RememberedRefusal> {
    let remedy = graph.remedy;
    if (need?.kind === 'application' && isPosternError(graph, 'GRAPH_ACCESS_DENIED') && account.providerId !== null) {
      const provider = await requireProvider(this.db, account.providerId);
      remedy = permissionRemedy(need, endpointsOf(provider).graph, this.then(direction), {
        appId: provider.applicationId,
        mailbox: account.username,
      });
    }
    const held = { until: this.db.now().getTime() + GRAPH_REFUSAL_MEMORY_MS, graph, remedy };
    this.refusals.set(`${direction}:${account.id}`, held);
    return held;
  }

  /**
   * The message's error when SMTP and Graph both refused it: Graph's (it is the way left to open),
   * its message telling both refusals, its remedy naming both ways out.
   */
  private refusedByGraph(account: EmailAccountRecord, refusal: PosternError, held: RememberedRefusal): PosternError {
    return new PosternError(held.graph.code, {
      message: `${refusal.message} Microsoft Graph refused to send as ${account.username} too: ${held.graph.message}`,
      remedy: [
        held.remedy === undefined ? undefined : `To send through Microsoft Graph: ${held.remedy}`,
        refusal.remedy === undefined ? undefined : `Or, to send over SMTP: ${refusal.remedy}`,
      ]
        .filter((part): part is string => part !== undefined)
        .join(' '),
      details: {
        ...held.graph.details,
        smtpCode: refusal.code,
        ...(typeof refusal.details?.response === 'string' ? { smtpResponse: refusal.details.response } : {}),
      },
      cause: held.graph,
    });
  }

  /** The IMAP refusal; for an app, its remedy extended with what would let Graph read the mailbox. */
  private withGraphRemedy(refusal: PosternError, held: RememberedRefusal): PosternError {
    if (held.remedy === undefined || held.remedy === held.graph.remedy) return refusal;
    return new PosternError(refusal.code, {
      message: `${refusal.message} Microsoft Graph refused to read the mailbox too: ${held.graph.message}`,
      remedy: `${refusal.remedy ?? ''} Or let Postern read through Microsoft Graph: ${held.remedy}`.trim(),
      details: { ...refusal.details, graphCode: held.graph.code },
      cause: refusal.cause ?? refusal,
    });
  }

  /** Stores the switch and tells the timeline (once, however many deliveries met the refusal). */
  private async record(
    account: EmailAccountRecord,
    direction: MailDirection,
    refusal: PosternError,
  ): Promise<EmailAccountRecord> {
    const reason = switchingRefusal(refusal)?.reason ?? `Exchange refused ${direction === 'inbound' ? 'IMAP' : 'SMTP'}`;
    const from = direction === 'inbound' ? 'imap' : 'smtp';
    await this.db.transaction(async (tx) => {
      if (!(await switchEffectiveTransport(tx, account.id, direction, reason, tx.now()))) return;
      await appendEvent(tx, {
        scope: 'account',
        scopeId: account.id,
        type: 'account.transport_switched',
        level: 'warn',
        message: `Email account ${account.key} now ${direction === 'inbound' ? 'reads' : 'sends'} through Microsoft Graph instead of ${from === 'imap' ? 'IMAP' : 'SMTP'}, because ${reason}.`,
        data: { direction, from, to: 'graph', reason, code: refusal.code },
      });
    });
    this.refusals.delete(`${direction}:${account.id}`);
    if (direction === 'inbound') this.accounts.changes.emit('changed', account.id);
    return requireEmailAccount(this.db, account.id);
  }

  /** The refusal, its remedy extended with the permission to add and what Postern then does. */
  private withRemedy(refusal: PosternError, missing: PosternError): PosternError {
    if (!isPosternError(missing, 'GRAPH_PERMISSION_MISSING')) return refusal;
    return new PosternError(refusal.code, {
      message: refusal.message,
      remedy: `${refusal.remedy ?? ''} Or let Postern use Microsoft Graph: ${missing.remedy ?? ''}`.trim(),
      details: { ...refusal.details, graphPermission: missing.details?.permission },
      cause: refusal.cause ?? refusal,
    });
  }

  private then(direction: MailDirection): string {
    return `Postern will then ${direction === 'outbound' ? 'send' : 'read'} through Microsoft Graph by itself`;
  }

  private deps(): { db: Database; accounts: AccountService; accessTokens: AccessTokenService } {
    return { db: this.db, accounts: this.accounts, accessTokens: this.accessTokens };
  }
}
