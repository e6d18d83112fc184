/**
 * The outbound half composed once: the send service (API side), the SMTP submitter (one pool per
 * account), and the dispatch and delivery services the outbox dispatcher uses. The composition
 * root creates it beside the other services; the worker role starts a dispatcher on `dispatch` and
 * `delivery` and wakes it on `send.events` `queued`.
 */
import type { Logger } from '../../log/index.js';
import { SmtpSubmitter } from '../../mail/smtp/submission.js';
import type { Database, SecretBox } from '../../store/index.js';
import type { AccessTokenService } from '../identity/access-token-service.js';
import type { AccountService } from '../accounts/account-service.js';
import { DeliveryService, type Submitter } from './delivery-service.js';
import { OutboxDispatchService } from './outbox-dispatch-service.js';
import { SendService } from './send-service.js';

/** What the outbound half needs. */
export interface OutboundDeps {
  readonly db: Database;
  readonly box: SecretBox;
  readonly logger: Logger;
  readonly accounts: Pick<AccountService, 'grantFor'>;
  readonly accessTokens: Pick<AccessTokenService, 'accessToken' | 'refreshNow'>;
  /** Replaces the SMTP submitter (tests). */
  readonly submitter?: Submitter;
}

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
  const submitter = new SmtpSubmitter({ logger: deps.logger.child({ component: 'smtp' }) });
  const delivery = new DeliveryService({
    db: deps.db,
    box: deps.box,
    submitter: deps.submitter ?? submitter,
    grantFor: (account) => deps.accounts.grantFor(account),
    accessToken: (grantId, resource) => deps.accessTokens.accessToken(grantId, resource),
    refreshToken: (grantId, resource) => deps.accessTokens.refreshNow(grantId, resource),
    logger: deps.logger.child({ component: 'delivery' }),
  });
  return { send: new SendService(deps.db), delivery, dispatch: new OutboxDispatchService(deps.db), submitter };
}
