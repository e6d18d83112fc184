/**
 * The outbound half composed once: the send service (API side), the SMTP submitter (one pool per
 * account), the Graph sender of accounts of transport `graph` (one Graph client per account's
 * route), and the dispatch and delivery services the outbox dispatcher uses. The composition
 * root creates it beside the other services; the worker role starts a dispatcher on `dispatch` and
 * `delivery` and wakes it on `send.events` `queued`.
 */
import type { Logger } from '../../log/index.js';
import { GraphSender, type GraphSenderOptions } from '../../mail/graph/graph-sender.js';
import type { SmtpTimeouts } from '../../mail/access/smtp-transport.js';
import { SmtpSubmitter } from '../../mail/smtp/submission.js';
import type { Database, SecretBox } from '../../store/index.js';
import type { AccessTokenService } from '../identity/access-token-service.js';
import type { AccountService } from '../accounts/account-service.js';
import { graphClientOf } from '../accounts/mailbox-connection.js';
import { TransportSwitchService } from '../accounts/transport-switch.js';
import { DeliveryService, type Submitter } from './delivery-service.js';
import { OutboxDispatchService } from './outbox-dispatch-service.js';
import { SendService } from './send-service.js';

/** What the outbound half needs. */
export interface OutboundDeps {
  readonly db: Database;
  readonly box: SecretBox;
  readonly logger: Logger;
  readonly accounts: AccountService;
  readonly accessTokens: AccessTokenService;
  /** Replaces the SMTP submitter (tests). */
  readonly submitter?: Submitter;
  /** The Graph sender's limits (tests lower them to send small messages through a draft). */
  readonly graphSender?: GraphSenderOptions;
  /** The SMTP submission's network timeouts (default SUBMISSION_TIMEOUTS: 30 s, 30 s, 2 min). */
  readonly smtpTimeouts?: SmtpTimeouts;
}

/**
 * How long one Graph send may wait out 429s in all before it gives up and the outbox schedules
 * the retry at Graph's Retry-After: a short wait keeps the slot, a long one frees it.
 */
const GRAPH_SEND_THROTTLE_BUDGET_MS = 30_000;

/** The outbound services. */
export interface OutboundServices {
  readonly send: SendService;
  readonly delivery: DeliveryService;
  /** The outbox's claims, leases and recovery, for the dispatcher. */
  readonly dispatch: OutboxDispatchService;
  /** The SMTP pools; close them when the process stops. */
  readonly submitter: SmtpSubmitter;
}

/** Composes the outbound services. */
export function createOutboundServices(deps: OutboundDeps): OutboundServices {
  const submitter = new SmtpSubmitter({
    logger: deps.logger.child({ component: 'smtp' }),
    ...(deps.smtpTimeouts === undefined ? {} : { timeouts: deps.smtpTimeouts }),
  });
  const graphLogger = deps.logger.child({ component: 'graph-send' });
  const switches = new TransportSwitchService(deps.db, deps.accounts, deps.accessTokens);
  const delivery = new DeliveryService({
    db: deps.db,
    box: deps.box,
    submitter: deps.submitter ?? submitter,
    grantFor: (account) => deps.accounts.grantFor(account),
    accessToken: (grantId, resource) => deps.accessTokens.accessToken(grantId, resource),
    refreshToken: (grantId, resource) => deps.accessTokens.refreshNow(grantId, resource),
    graphSender: async (account) => {
      const client = await graphClientOf(deps.db, deps.accounts, deps.accessTokens, account, {
        purpose: 'send',
        logger: graphLogger,
        throttleBudgetMs: GRAPH_SEND_THROTTLE_BUDGET_MS,
      });
      return new GraphSender(client, deps.graphSender);
    },
    switchToGraph: (account, refusal, trial) => switches.afterSmtpRefused(account, refusal, trial),
    logger: deps.logger.child({ component: 'delivery' }),
  });
  return { send: new SendService(deps.db), delivery, dispatch: new OutboxDispatchService(deps.db), submitter };
}
