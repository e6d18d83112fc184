/**
 * Transport `auto`: each direction of an account starts on IMAP (reading) or SMTP (sending) and
 * switches to Microsoft Graph by itself when Exchange refuses that protocol for the mailbox —
 * sending when SMTP AUTH is disabled (`535 5.7.139`, SMTP_AUTH_DISABLED), reading when IMAP is
 * (`User is authenticated but not connected`, IMAP_NOT_CONNECTED, told apart from its other causes
 * by opening the account's folder through Graph with the same grant) — provided the grant holds the
 * Graph permission for that direction (graph-access.ts). The switch is stored on the account
 * (migration 0019), told on its timeline (`account.transport_switched`) and announced on
 * `AccountService.changes`, which restarts the mailbox worker on the Graph engine. When the grant
 * lacks the permission the refusal keeps its code, and its remedy names the permission to add and
 * says that Postern then switches by itself.
 */
import { PosternError, isPosternError } from '../../errors/index.js';
import { findGraphFolder } from '../../mail/graph/graph-folders.js';
import {
  appendEvent,
  requireEmailAccount,
  switchEffectiveTransport,
  type Database,
  type EmailAccountRecord,
} from '../../store/index.js';
import type { AccessTokenService } from '../identity/access-token-service.js';
import type { AccountService } from './account-service.js';
import { checkGraphPermission, type MailDirection } from './graph-access.js';
import { graphClientOf } from './mailbox-connection.js';

/** Why each direction switches, in the words the timeline, the account page and the doctor use. */
export const SWITCH_REASONS: Readonly<Record<MailDirection, string>> = {
  inbound: 'IMAP is disabled for the mailbox',
  outbound: 'SMTP AUTH is disabled for the mailbox (535 5.7.139)',
};

/** What an attempt to switch a direction decided. */
export type SwitchDecision =
  | { readonly switched: true; readonly account: EmailAccountRecord }
  /** The direction stays; `error` is the refusal, its remedy naming what would let it switch. */
  | { readonly switched: false; readonly error: PosternError };

/** Switches the directions of accounts of transport `auto` to Microsoft Graph. */
export class TransportSwitchService {
  constructor(
    private readonly db: Database,
    private readonly accounts: AccountService,
    private readonly accessTokens: AccessTokenService,
  ) {}

  /**
   * After SMTP answered 535 5.7.139 for an `auto` account: switches sending to Graph when the grant
   * may send through it. SMTP accepted nothing, so the caller sends the message in hand through
   * Graph: it can never leave twice.
   */
  async afterSmtpRefused(account: EmailAccountRecord, refusal: PosternError): Promise<SwitchDecision> {
    if (account.transport !== 'auto' || !isPosternError(refusal, 'SMTP_AUTH_DISABLED'))
      return { switched: false, error: refusal };
    const permission = await checkGraphPermission(this.deps(), account, 'outbound', this.then('outbound'));
    if (!permission.ok) return { switched: false, error: this.withRemedy(refusal, permission.error) };
    return { switched: true, account: await this.record(account, 'outbound', refusal) };
  }

  /**
   * After IMAP answered "authenticated but not connected" for an `auto` account: switches reading
   * to Graph when the grant may read through it and Graph opens the account's folder — then IMAP
   * itself is what the mailbox refuses (not FullAccess, not the mailbox). Otherwise the refusal,
   * its remedy extended with what would let Postern read through Graph.
   */
  async afterImapRefused(account: EmailAccountRecord, refusal: PosternError): Promise<SwitchDecision> {
    if (account.transport !== 'auto' || account.effective.inbound.via !== 'imap')
      return { switched: false, error: refusal };
    if (!isPosternError(refusal, 'IMAP_NOT_CONNECTED')) return { switched: false, error: refusal };
    const permission = await checkGraphPermission(this.deps(), account, 'inbound', this.then('inbound'));
    if (!permission.ok) return { switched: false, error: this.withRemedy(refusal, permission.error) };
    try {
      const client = await graphClientOf(this.db, this.accounts, this.accessTokens, account, { purpose: 'read' });
      if ((await findGraphFolder(client, account.folder)) === undefined) return { switched: false, error: refusal };
    } catch {
      // Graph refuses the mailbox too: IMAP is not the (only) problem, and the IMAP remedy stands.
      return { switched: false, error: refusal };
    }
    return { switched: true, account: await this.record(account, 'inbound', refusal) };
  }

  /** Stores the switch and tells the timeline (once, however many deliveries met the refusal). */
  private async record(
    account: EmailAccountRecord,
    direction: MailDirection,
    refusal: PosternError,
  ): Promise<EmailAccountRecord> {
    const reason = SWITCH_REASONS[direction];
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
