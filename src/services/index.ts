import crypto from 'node:crypto';
import os from 'node:os';
import type { Config } from '../config/index.js';
import type { Logger } from '../log/index.js';
import type { PosternError } from '../errors/index.js';
import { MeteredIdentity, PosternMetrics } from '../metrics/index.js';
import { TokenRequestLimiter, type LimiterClock } from '../providers/microsoft/token-request-limiter.js';

export type { LimiterClock } from '../providers/microsoft/token-request-limiter.js';
import type { Database, SecretBox, StoreFailure } from '../store/index.js';
import { AccessTokenService } from './identity/access-token-service.js';
import { AccountService } from './accounts/account-service.js';
import { ApiTokenService } from './users/api-token-service.js';
import { DoctorService } from './doctor/doctor-service.js';
import { checkSmtp } from './doctor/smtp-checks.js';
import { readTokenClaims } from './doctor/token-claims.js';
import type { SmtpTimeouts } from '../mail/access/smtp-transport.js';
import { InteractionService } from './inbox/interaction-service.js';
import { CannedAnswerService } from './inbox/canned-answer-service.js';
import { MailboxTestService } from './accounts/mailbox-connection.js';
import { createOutboundServices, type OutboundServices } from './outbound/outbound-services.js';
import { AuthService } from './users/auth-service.js';
import { DirectoryService } from './inbox/directory-service.js';
import { EventRetentionService } from './events/event-retention-service.js';
import { RawRetentionService } from './retention/raw-retention-service.js';
import { EventService } from './events/event-service.js';
import { MailboxSyncService } from './accounts/mailbox-sync-service.js';
import { GraphNotificationService } from './inbound/graph-notifications.js';
import { ProviderService } from './identity/provider-service.js';
import { SecretService } from './secrets/secret-service.js';
import { AdminConsentService } from './identity/admin-consent-service.js';
import { SignInService } from './identity/sign-in-service.js';
import { TokenUpkeepService } from './identity/token-upkeep-service.js';
import { UserService } from './users/user-service.js';
import { WebhookDeliveryService } from './webhooks/webhook-delivery-service.js';
import { WebhookService } from './webhooks/webhook-service.js';
import { WebhookTargetGuard, type HostResolver, type OwnListener } from './webhooks/webhook-target.js';
import { ChangeFeed } from './cluster/change-feed.js';
import { ClusterService } from './cluster/cluster-service.js';
import { announceDelivery } from './live/announce.js';
import { LiveStream } from './live/live-stream.js';
import { LIMITS } from '../config/index.js';

export type { Principal, SignedIn } from './users/auth-service.js';

export interface ServiceDeps {
  db: Database;
  box: SecretBox;
  logger: Logger;
  config: Config;
  /** Waits between retries; tests make it instant. */
  sleep?: (ms: number) => Promise<void>;
  /** Resolves webhook receivers' names; tests inject one (no real DNS). Default the system's. */
  resolveHost?: HostResolver;
  /** How long network calls may wait; tests shorten them to meet a black hole quickly. */
  networkTimeouts?: NetworkTimeouts;
  /** This release, recorded with the node. */
  version?: string;
  /** The clock pacing token requests (tests: a fake one); default the monotonic clock and timers. */
  tokenRequestClock?: LimiterClock;
}

/**
 * How long Postern waits on the servers it talks to before it gives up on an attempt (and retries
 * later). Each is optional; the defaults are the production values stated with each constant.
 */
export interface NetworkTimeouts {
  /** SMTP submission: connecting, the greeting, a silent socket. Default 30 s, 30 s, 2 min. */
  readonly smtp?: SmtpTimeouts;
  /** The doctor's SMTP check. Default 20 s, 20 s, 30 s. */
  readonly smtpProbe?: SmtpTimeouts;
  /** One request to Microsoft's identity platform (discovery, token). Default 15 s. */
  readonly identityMs?: number;
}

/** The use cases of Postern, composed once and handed to the HTTP layer, the CLI and workers. */
export interface Services {
  ping(): Promise<void>;
  /** The storage failure writes met lately (a full disk…), for `/health`; see store/store-health.ts. */
  storeFailure(): StoreFailure | undefined;
  /** The catalogue error of a storage failure in a driver's error (recorded in the store's health), or undefined. */
  storageError(error: unknown): PosternError | undefined;
  auth: AuthService;
  users: UserService;
  tokens: ApiTokenService;
  lists: DirectoryService['lists'];
  contacts: DirectoryService['contacts'];
  secrets: SecretService;
  providers: ProviderService;
  signIn: SignInService;
  adminConsent: AdminConsentService;
  accessTokens: AccessTokenService;
  accounts: AccountService;
  mailboxTest: MailboxTestService;
  doctor: DoctorService;
  interactions: InteractionService;
  /** Canned answers and signatures: what the reply composer inserts. */
  cannedAnswers: CannedAnswerService;
  events: EventService;
  webhooks: WebhookService;
  /** Where webhooks may go: shared by registration and the dispatcher. */
  webhookTargets: WebhookTargetGuard;
  metrics: PosternMetrics;
  outbound: OutboundServices;
  /** The workers' use cases: mailbox sync, token keeper, webhook deliveries, event retention. */
  mailboxSync: MailboxSyncService;
  /** Microsoft Graph change notifications: the engines' subscriptions and the public routes. */
  graphNotifications: GraphNotificationService;
  tokenUpkeep: TokenUpkeepService;
  webhookDelivery: WebhookDeliveryService;
  eventRetention: EventRetentionService;
  /** The retention of originals: the sweep of raw MIME and attached files past their account's days. */
  rawRetention: RawRetentionService;
  /** This node among the nodes on the database: registration, heartbeats, mailbox leases. */
  cluster: ClusterService;
  /** This node's pace of token requests to the identity platform. */
  tokenRequests: TokenRequestLimiter;
  /** The nodes' change feed (account, provider and grant changes made on any node). */
  changes: ChangeFeed;
  /** The console's live stream: the feed's changes as events, per viewer, with replay. */
  live: LiveStream;
}

/** Network calls to Microsoft give up after this long. */
const IDENTITY_TIMEOUT_MS = 15_000;

export function createServices(deps: ServiceDeps): Services {
  const services = composeServices(deps);
  const probe = deps.networkTimeouts?.smtpProbe;
  services.doctor.extraAccountChecks = (account, context) => checkSmtp(deps.db, account, context, probe);
  // Test connection runs the doctor's SMTP checks, not a copy of them.
  services.mailboxTest.smtpProbe = ({ account, grant, token, endpoint, sendTest }) =>
    checkSmtp(deps.db, account, { grant, token, claims: readTokenClaims(token), endpoint, sendTest }, probe);
  announceChanges(services, deps.db);
  return services;
}

/** Puts this process's account, provider and grant changes on the nodes' change feed. */
function announceChanges(services: Services, db: Database): void {
  const { changes } = services;
  services.accounts.changes.on('changed', (id) => changes.publish({ kind: 'account', id, op: 'changed' }));
  services.accounts.changes.on('deleted', (id) => changes.publish({ kind: 'account', id, op: 'deleted' }));
  services.providers.changes.on('provider', (id) => changes.publish({ kind: 'provider', id }));
  services.providers.changes.on('grant', (providerId) => changes.publish({ kind: 'grant', providerId }));
  services.signIn.changes.on('grant', (providerId) => changes.publish({ kind: 'grant', providerId }));
  // What the live stream tells the console (the outbox's outcomes are announced by the runtime's deliverer).
  services.interactions.changes.on('changed', ({ accountId, interactionId, change }) =>
    changes.publish({ kind: 'conversation', id: interactionId, accountId, change }),
  );
  services.mailboxSync.statusChanges.on('status', (id) => changes.publish({ kind: 'accountStatus', id }));
  // `queued` with 0: the sending settings changed, no message (the dispatcher's wake-up only).
  services.outbound.send.events.on('queued', (messageId) => {
    if (messageId > 0) void announceDelivery(db, (made) => changes.publish(made), messageId, 'queued');
  });
  services.outbound.send.events.on('cancelled', (messageId) => {
    void announceDelivery(db, (made) => changes.publish(made), messageId, 'cancelled');
  });
}

function composeServices(deps: ServiceDeps): Services {
  const nodeId = `${os.hostname().split('.')[0] ?? 'node'}-${crypto.randomBytes(4).toString('hex')}`;
  // Every series carries the node that exports it, set before the first metric registers, so that
  // no name is ever exported with and without the label and several nodes' scrapes add up.
  const metrics = new PosternMetrics({ db: deps.db, labels: { node: nodeId } });
  // One pace per node for every request to the identity platform, whoever makes it.
  const tokenRequests = new TokenRequestLimiter({
    perSecond: deps.config.tokenRequestsPerSecond,
    ...(deps.tokenRequestClock === undefined ? {} : { clock: deps.tokenRequestClock }),
  });
  metrics.trackTokenRequests(() => tokenRequests.stats());
  const identity = new MeteredIdentity(metrics, {
    timeoutMs: deps.networkTimeouts?.identityMs ?? IDENTITY_TIMEOUT_MS,
    now: () => deps.db.now().getTime(),
    limiter: tokenRequests,
  });
  const logger = deps.logger.child({ component: 'identity' });
  const accessTokens = new AccessTokenService(deps.db, deps.box, identity, logger, deps.sleep);
  const accounts = new AccountService(deps.db, deps.box);
  const signIn = new SignInService(deps.db, deps.box, identity, logger, deps.config.publicUrl);
  const webhookTargets = new WebhookTargetGuard({
    allowedNetworks: deps.config.webhookAllowedNetworks,
    publicUrl: deps.config.publicUrl,
    listeners: ownListeners(deps.config),
    ...(deps.resolveHost === undefined ? {} : { resolve: deps.resolveHost }),
  });
  const graphNotifications = new GraphNotificationService(deps.db, deps.config.publicUrl);
  const changes = new ChangeFeed(deps.db, nodeId, deps.logger.child({ component: 'changes' }), {
    listenUrl: deps.db.engine === 'postgres' ? deps.config.databaseUrl : undefined,
  });
  const interactions = new InteractionService(deps.db);
  const directory = new DirectoryService(deps.db, ({ interactionId, accountId }) =>
    interactions.changes.emit('changed', { accountId, interactionId, change: 'contact' }),
  );
  // Another node changed a provider: the identity client built here from its old settings goes.
  changes.subscribe((change, local) => {
    if (!local && change.kind === 'provider') identity.forget(change.id);
  });
  return {
    cluster: new ClusterService(
      deps.db,
      { id: nodeId, version: deps.version ?? '0.0.0', host: os.hostname(), pid: process.pid },
      { ttlMs: deps.config.mailboxLeaseSeconds * 1000, cap: deps.config.nodeMailboxCap },
    ),
    changes,
    tokenRequests,
    live: new LiveStream(changes, {
      capacity: LIMITS.liveReplayEvents,
      visibleAccountIds: (viewer) => interactions.visibleAccountIds(viewer),
    }),
    ping: () => deps.db.ping(),
    storeFailure: () => deps.db.health.current(),
    storageError: (error) => deps.db.health.failed(error, 'requests'),
    auth: new AuthService(deps.db),
    users: new UserService(deps.db),
    tokens: new ApiTokenService(deps.db),
    lists: directory.lists,
    contacts: directory.contacts,
    secrets: new SecretService(deps.db, deps.box, deps.config),
    providers: new ProviderService(deps.db, deps.box, identity, deps.config.publicUrl),
    signIn,
    adminConsent: new AdminConsentService(deps.db, deps.box, signIn),
    accessTokens,
    accounts,
    mailboxTest: new MailboxTestService(deps.db, accounts, accessTokens, deps.logger),
    interactions,
    cannedAnswers: new CannedAnswerService(deps.db),
    events: new EventService(deps.db),
    webhooks: new WebhookService(deps.db, deps.box, webhookTargets),
    webhookTargets,
    metrics,
    outbound: createOutboundServices({
      db: deps.db,
      box: deps.box,
      logger: deps.logger.child({ component: 'outbound' }),
      accounts,
      accessTokens,
      ...(deps.networkTimeouts?.smtp === undefined ? {} : { smtpTimeouts: deps.networkTimeouts.smtp }),
    }),
    mailboxSync: new MailboxSyncService(deps.db, accounts, accessTokens, graphNotifications),
    graphNotifications,
    tokenUpkeep: new TokenUpkeepService(deps.db, accessTokens),
    webhookDelivery: new WebhookDeliveryService(deps.db, deps.box),
    eventRetention: new EventRetentionService(deps.db),
    rawRetention: new RawRetentionService(deps.db),
    doctor: new DoctorService({
      db: deps.db,
      box: deps.box,
      identity,
      accounts,
      accessTokens,
      publicUrl: deps.config.publicUrl,
    }),
  };
}

/** The addresses Postern listens on, as configured (the web listener adds its bound port when it was 0). */
function ownListeners(config: Config): OwnListener[] {
  const listeners: OwnListener[] = [{ host: config.host, port: config.port }];
  const colon = config.metricsListen.lastIndexOf(':');
  if (colon > 0)
    listeners.push({ host: config.metricsListen.slice(0, colon), port: Number(config.metricsListen.slice(colon + 1)) });
  return listeners;
}
