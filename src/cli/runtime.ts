/**
 * The composition root. `openRuntime` wires config → logs → secret key → database (migrated) →
 * services; `runtime.startRoles` starts roles from one table, {@link ROLES}, in its order — the
 * workers, the metrics listener, then the web — and `runtime.close()` is the one shutdown routine:
 * every started role in reverse order, then the services' pools, the database and the logs. `postern
 * start` and `postern demo`, the benchmarks and the tests all compose Postern here.
 */
import fs, { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type Config, type ConfigKey } from '../config/index.js';
import { createLogger, type LogBundle } from '../log/index.js';
import { isPosternError } from '../errors/index.js';
import type { MetricsServer } from '../metrics/index.js';
import { createServices, type LimiterClock, type NetworkTimeouts, type Services } from '../services/index.js';
import { pendingKeyFile } from '../services/secrets/secret-service.js';
import {
  decodeKeyText,
  ensureKeyCheck,
  loadSecretKey,
  migrateToLatest,
  openDatabase,
  SecretBox,
  upgradeSealedValues,
  type Database,
} from '../store/index.js';
import type { EventRetention, EventRetentionOptions } from '../workers/event-retention.js';
import type { MailboxWorkers, MailboxWorkersOptions } from '../workers/mailbox-workers.js';
import type { SnoozeWake, SnoozeWakeOptions } from '../workers/snooze-wake.js';
import type { RawRetention, RawRetentionOptions } from '../workers/raw-retention.js';
import type { OutboxDispatcher, OutboxDispatcherOptions } from '../workers/outbox-dispatcher.js';
import type { TokenKeeper, TokenKeeperOptions } from '../workers/token-keeper.js';
import type { WebhookDispatcher, WebhookDispatcherOptions } from '../workers/webhook-dispatcher.js';
import type { NodeHeartbeat, NodeHeartbeatOptions } from '../workers/node-heartbeat.js';
import type { HostResolver } from '../services/webhooks/webhook-target.js';
import { Lifecycle } from './lifecycle.js';

/** Everything a command needs, opened in dependency order and closed in reverse. */
export interface Runtime {
  config: Config;
  log: LogBundle;
  db: Database;
  box: SecretBox;
  services: Services;
  /** The roles started so far, by name. */
  readonly roles: StartedRoles;
  /** The process's startup steps and their stops (the roles register theirs here). */
  readonly lifecycle: Lifecycle;
  /** Starts these roles (those not running yet) in the order of {@link ROLES}. */
  startRoles(names: readonly RoleName[], options?: RoleOptions): Promise<StartedRoles>;
  /** The one shutdown routine: started roles in reverse order, then services, database and logs. Once. */
  close(): Promise<void>;
}

/** The version in package.json, found by walking up from this file (source or dist/). */
export const VERSION: string = readVersion();

function readVersion(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const manifest = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (manifest.name === 'postern' && manifest.version !== undefined) return manifest.version;
    } catch {
      // not at this depth
    }
  }
  return '0.0.0';
}

export interface RuntimeOptions {
  overrides?: Partial<Record<ConfigKey, string>>;
  /** The environment to read instead of process.env (tests). */
  env?: Record<string, string | undefined>;
  /** Directory whose .env is read and against which relative paths resolve. */
  cwd?: string;
  /** The clock stamping rows and judging expiries (tests move it). */
  clock?: () => Date;
  /** Waits between retries (tests make it instant). */
  sleep?: (ms: number) => Promise<void>;
  /** The clock pacing token requests to the identity platform (tests: a fake one). */
  tokenRequestClock?: LimiterClock;
  /** Resolves webhook receivers' names (tests inject one: no real DNS). */
  resolveHost?: HostResolver;
  /** How long network calls wait before an attempt fails (tests shorten them); default production values. */
  networkTimeouts?: NetworkTimeouts;
  /** Commands that print to the terminal keep the console free of log lines. */
  quiet?: boolean;
  /**
   * The process's lifecycle, when it was created before the runtime (`postern start` installs its
   * signal handlers first); default a new one.
   */
  lifecycle?: Lifecycle;
}

/**
 * The secret box whose key opens this database. When a rotation was interrupted after its commit
 * and before the key file moved, the pending `<key file>.new` holds the right key: finish the move.
 */
async function checkedSecretBox(
  db: Database,
  box: SecretBox,
  config: Config,
  fromEnv: boolean,
  warn: (fields: object, message: string) => void,
): Promise<SecretBox> {
  try {
    await ensureKeyCheck(db, box);
    return box;
  } catch (error) {
    const pending = fromEnv ? undefined : pendingKeyFile(config.secretKeyFile);
    if (!isPosternError(error, 'SECRET_KEY_INVALID') || pending === undefined) throw error;
    const next = new SecretBox(decodeKeyText(fs.readFileSync(pending, 'utf8'), pending));
    await ensureKeyCheck(db, next);
    const keptAs = `${config.secretKeyFile}.${box.keyId}.old`;
    fs.renameSync(config.secretKeyFile, keptAs);
    fs.renameSync(pending, config.secretKeyFile);
    // Whether --keep-old-key was asked is not known here: the old key is kept, and said so.
    warn(
      { keptAs },
      'finished an interrupted key rotation; the previous key was kept: remove it once no backup needs it',
    );
    return next;
  }
}

/**
 * Opens the runtime: config → logs → secret key → database (migrated) → services. A wrong secret
 * key or an unreachable database stops here, before anything listens; whatever was opened is
 * closed again.
 */
export async function openRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const config = loadConfig({ overrides: options.overrides, env: options.env, cwd: options.cwd });
  const lifecycle = options.lifecycle ?? new Lifecycle();
  const consoleWanted = config.logConsole === 'auto' ? !options.quiet : config.logConsole;
  try {
    const log = await lifecycle.step(
      'logs',
      () => createLogger({ level: config.logLevel, dir: config.logDir, console: consoleWanted }),
      (opened) => opened.close(),
    );
    const key = loadSecretKey({ envValue: config.secretKey, keyFile: config.secretKeyFile });
    for (const warning of key.warnings) log.logger.warn(warning);
    const db = await lifecycle.step(
      'database',
      () =>
        openDatabase(config.databaseUrl, {
          ...(options.clock === undefined ? {} : { clock: options.clock }),
          queryTimeoutMs: config.databaseQueryTimeoutSeconds * 1000,
          // A restart of PostgreSQL ends idle connections; the pool drops them and opens new ones.
          onPoolError: (error) => log.logger.warn({ err: error }, 'an idle database connection was lost'),
        }),
      (opened) => opened.close(),
    );
    await lifecycle.step('migrations', () => migrateToLatest(db));
    const box = await lifecycle.step('secret key', () =>
      checkedSecretBox(db, new SecretBox(key.key), config, key.source === 'environment', (fields, message) =>
        log.logger.warn(fields, message),
      ),
    );
    // Once per database: v1 sealed values become v2, bound to their rows (store/sealed-upgrade.ts).
    const upgrade = await lifecycle.step('sealed values', () => upgradeSealedValues(db, box));
    if (upgrade.ran)
      log.logger.info({ upgraded: upgrade.upgraded }, 'sealed values upgraded to v2 (bound to their rows)');
    for (const value of upgrade.unreadable) {
      log.logger.warn(value, 'a v1 sealed value does not open and was left as it was: enter that secret again');
    }
    const services = await lifecycle.step(
      'services',
      () =>
        createServices({
          db,
          box,
          logger: log.logger,
          config,
          ...(options.sleep === undefined ? {} : { sleep: options.sleep }),
          ...(options.tokenRequestClock === undefined ? {} : { tokenRequestClock: options.tokenRequestClock }),
          ...(options.resolveHost === undefined ? {} : { resolveHost: options.resolveHost }),
          ...(options.networkTimeouts === undefined ? {} : { networkTimeouts: options.networkTimeouts }),
          version: VERSION,
        }),
      (composed) => composed.outbound.submitter.close(),
    );
    services.metrics.trackLogDrops(log.dropped);
    const roles: StartedRoles = {};
    let heartbeat: NodeHeartbeat | undefined;
    const runtime: Runtime = {
      config,
      log,
      db,
      box,
      services,
      roles,
      lifecycle,
      startRoles: async (names, roleOptions = {}) => {
        // The node registers (and hears the other nodes) before its first role starts, and stops after its last.
        if (heartbeat === undefined) {
          const { NodeHeartbeat } = await import('../workers/node-heartbeat.js');
          const beat = new NodeHeartbeat(
            services.cluster,
            services.changes,
            log.logger.child({ component: 'node' }),
            roleOptions.node ?? {},
          );
          heartbeat = beat;
          await lifecycle.step(
            'node',
            () => beat.start(names),
            () => beat.stop(),
          );
        } else await heartbeat.start(names);
        for (const role of ROLES) {
          if (!names.includes(role.name) || lifecycle.running.includes(role.name)) continue;
          await lifecycle.step(
            role.name,
            () => role.start({ runtime, options: roleOptions }),
            (stop) => stop(),
          );
        }
        return roles;
      },
      close: () => lifecycle.stop(),
    };
    return runtime;
  } catch (error) {
    await lifecycle.stop().catch(() => undefined);
    throw error;
  }
}

/** A role, or a part of the worker role, that a process runs. */
export type RoleName =
  | 'eventRetention'
  | 'rawRetention'
  | 'snoozeWake'
  | 'webhooks'
  | 'outboxDispatch'
  | 'tokenKeeper'
  | 'mailboxSync'
  | 'metrics'
  | 'web';

/** What each role is once started. */
export interface StartedRoles {
  eventRetention?: EventRetention;
  rawRetention?: RawRetention;
  snoozeWake?: SnoozeWake;
  webhooks?: WebhookDispatcher;
  outboxDispatch?: OutboxDispatcher;
  tokenKeeper?: TokenKeeper;
  mailboxSync?: MailboxWorkers;
  metrics?: MetricsServer;
  web?: { readonly app: FastifyInstance; readonly url: string | undefined };
}

/** Settings of the roles beyond the configuration (tests and benchmarks shorten intervals). */
export interface RoleOptions {
  readonly eventRetention?: Omit<EventRetentionOptions, 'retentionDays'>;
  readonly rawRetention?: RawRetentionOptions;
  readonly snoozeWake?: SnoozeWakeOptions;
  readonly webhooks?: Omit<WebhookDispatcherOptions, 'targets'>;
  readonly outboxDispatch?: OutboxDispatcherOptions;
  readonly tokenKeeper?: TokenKeeperOptions;
  readonly mailboxSync?: MailboxWorkersOptions;
  /** The node's heartbeat (tests shorten it). */
  readonly node?: NodeHeartbeatOptions;
  /** `listen: false` builds the app for `app.inject()` without listening (tests). */
  readonly web?: {
    readonly listen?: boolean;
    readonly version?: string;
    /** The live stream's heartbeat (ms); default LIMITS.liveHeartbeatMs. */
    readonly streamHeartbeatMs?: number;
  };
  /** Where the lines for the operator go (the URL listened on). Default standard output. */
  readonly print?: (line: string) => void;
}

/** The `--roles` of `postern start` (POSTERN_ROLES), each as the roles of the table it runs. */
export const ROLE_GROUPS: Readonly<Record<Config['roles'][number], readonly RoleName[]>> = {
  worker: ['eventRetention', 'rawRetention', 'snoozeWake', 'webhooks', 'outboxDispatch', 'tokenKeeper', 'mailboxSync'],
  web: ['web'],
};

/** The roles this configuration asks for: its `roles`, and the metrics listener when one is set. */
export function configuredRoles(config: Config): RoleName[] {
  const names = config.roles.flatMap((group) => ROLE_GROUPS[group]);
  return config.metricsListen === '' ? names : [...names, 'metrics'];
}

interface RoleContext {
  readonly runtime: Runtime;
  readonly options: RoleOptions;
}

/** One row of the table: starts the role, records it in `runtime.roles`, and returns its stop. */
interface RoleDefinition {
  readonly name: RoleName;
  start(context: RoleContext): Promise<() => Promise<void>>;
}

function printer(options: RoleOptions): (line: string) => void {
  return options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
}

/**
 * The roles, in start order; they stop in reverse. The workers start before anything listens:
 * first those that others wake (retention, webhooks, outbox), then the token keeper, then the
 * mailbox sync, whose ingested messages wake the webhooks; then the metrics listener and the web.
 * On shutdown the web stops taking requests first, the mailboxes stop before the dispatchers they
 * feed, and the database closes last.
 */
export const ROLES: readonly RoleDefinition[] = [
  {
    name: 'eventRetention',
    async start({ runtime, options }) {
      const { EventRetention } = await import('../workers/event-retention.js');
      const retention = new EventRetention(
        runtime.services.eventRetention,
        runtime.log.logger.child({ component: 'retention' }),
        { retentionDays: runtime.config.eventRetentionDays, ...options.eventRetention },
      );
      retention.start();
      runtime.roles.eventRetention = retention;
      return () => retention.stop();
    },
  },
  {
    name: 'rawRetention',
    async start({ runtime, options }) {
      const { RawRetention } = await import('../workers/raw-retention.js');
      // One node at a time sweeps: the claim carries this node's id.
      const retention = new RawRetention(
        runtime.services.rawRetention,
        runtime.services.cluster.nodeId,
        runtime.log.logger.child({ component: 'raw-retention' }),
        options.rawRetention,
      );
      retention.start();
      runtime.roles.rawRetention = retention;
      return () => retention.stop();
    },
  },
  {
    name: 'snoozeWake',
    async start({ runtime, options }) {
      const { SnoozeWake } = await import('../workers/snooze-wake.js');
      const wake = new SnoozeWake(
        runtime.services.interactions,
        runtime.log.logger.child({ component: 'snooze' }),
        options.snoozeWake,
      );
      wake.start();
      runtime.roles.snoozeWake = wake;
      return () => wake.stop();
    },
  },
  {
    name: 'webhooks',
    async start({ runtime, options }) {
      const { WebhookDispatcher } = await import('../workers/webhook-dispatcher.js');
      const dispatcher = new WebhookDispatcher(
        runtime.services.webhookDelivery,
        runtime.log.logger.child({ component: 'webhooks' }),
        {
          userAgent: `Postern/${VERSION}`,
          observer: runtime.services.metrics,
          ...options.webhooks,
          targets: runtime.services.webhookTargets,
        },
      );
      dispatcher.start();
      runtime.roles.webhooks = dispatcher;
      return () => dispatcher.stop();
    },
  },
  {
    name: 'outboxDispatch',
    async start({ runtime, options }) {
      const { OutboxDispatcher } = await import('../workers/outbox-dispatcher.js');
      const { meterDeliverer } = await import('../metrics/index.js');
      const { announcingDeliverer } = await import('../services/live/announce.js');
      const { outbound, metrics, cluster, changes } = runtime.services;
      const dispatcher = new OutboxDispatcher(
        outbound.dispatch,
        // Each delivery's state goes on the change feed for the console's live stream.
        announcingDeliverer(meterDeliverer(outbound.delivery, metrics), runtime.db, (made) => changes.publish(made)),
        runtime.log.logger.child({ component: 'outbox' }),
        // A node submits with every transport: SMTP, Microsoft Graph for accounts of transport `graph`,
        // and either for `auto` (SMTP until Exchange refuses SMTP AUTH, then Graph).
        {
          transports: ['imap_smtp', 'graph', 'auto'],
          // Claims carry the cluster's node id: when this node stops or stays silent for three
          // leases, the others queue its submissions again instead of when the claims' ten-minute
          // lease runs out.
          nodeId: cluster.nodeId,
          deadNodes: () => cluster.outboxDeadNodeIds(),
          ...options.outboxDispatch,
        },
      );
      const wake = (): void => dispatcher.wake();
      outbound.send.events.on('queued', wake);
      dispatcher.start();
      runtime.roles.outboxDispatch = dispatcher;
      return async () => {
        outbound.send.events.off('queued', wake);
        await dispatcher.stop();
      };
    },
  },
  {
    name: 'tokenKeeper',
    async start({ runtime, options }) {
      const { TokenKeeper, keeperConcurrency } = await import('../workers/token-keeper.js');
      const keeper = new TokenKeeper(
        runtime.services.tokenUpkeep,
        runtime.log.logger.child({ component: 'token-keeper' }),
        // Enough grants at once to keep the node's pace of token requests busy (8 at 40/s).
        {
          concurrency: keeperConcurrency(runtime.config.tokenRequestsPerSecond),
          ...options.tokenKeeper,
        },
      );
      runtime.services.metrics.trackTokenKeeper(() => keeper.progress());
      keeper.start();
      runtime.roles.tokenKeeper = keeper;
      return () => keeper.stop();
    },
  },
  {
    name: 'mailboxSync',
    async start({ runtime, options }) {
      const { MailboxWorkers } = await import('../workers/mailbox-workers.js');
      const { metrics } = runtime.services;
      const extra = options.mailboxSync?.onIngested;
      const { cluster, changes } = runtime.services;
      const workers = new MailboxWorkers(runtime.services.mailboxSync, runtime.log.logger, {
        // Several nodes share the mailboxes on PostgreSQL; SQLite has one node, which reads them all.
        ...(runtime.db.engine === 'postgres' ? { leases: cluster } : {}),
        feed: changes,
        ...options.mailboxSync,
        onIngested: (result, message, accountId) => {
          metrics.observeIngest(result.outcome);
          runtime.roles.webhooks?.wake();
          // The live stream, on every node: a message stored (a duplicate changes nothing to show).
          if (result.outcome === 'stored')
            changes.publish({
              kind: 'message',
              id: result.messageRowId,
              accountId,
              interactionId: result.interactionId,
            });
          extra?.(result, message, accountId);
        },
      });
      metrics.trackMailboxWorkers(() => workers.running().length);
      try {
        await workers.start();
      } catch (error) {
        await workers.stop();
        throw error;
      }
      runtime.roles.mailboxSync = workers;
      return () => workers.stop();
    },
  },
  {
    name: 'metrics',
    async start({ runtime, options }) {
      const { startMetricsServer } = await import('../metrics/index.js');
      const logger = runtime.log.logger.child({ component: 'server' });
      const server = await startMetricsServer(runtime.services.metrics, runtime.config.metricsListen, (error) =>
        logger.error({ err: error }, 'metrics could not be collected'),
      );
      const bound = new URL(server.url);
      runtime.services.webhookTargets.addListener({ host: bound.hostname, port: Number(bound.port) });
      printer(options)(`Prometheus metrics on ${server.url}/metrics (no token: keep this address private)`);
      runtime.roles.metrics = server;
      return () => server.close();
    },
  },
  {
    name: 'web',
    async start({ runtime, options }) {
      const { buildApp } = await import('../http/app.js');
      const { config } = runtime;
      const app = await buildApp({
        config,
        logger: runtime.log.logger,
        services: runtime.services,
        version: options.web?.version ?? VERSION,
        ...(options.web?.streamHeartbeatMs === undefined ? {} : { streamHeartbeatMs: options.web.streamHeartbeatMs }),
      });
      let url: string | undefined;
      try {
        if (options.web?.listen === false) await app.ready();
        else url = await app.listen({ host: config.host, port: config.port });
      } catch (error) {
        await app.close().catch(() => undefined);
        throw error;
      }
      const bound = app.server.address();
      if (bound !== null && typeof bound === 'object')
        runtime.services.webhookTargets.addListener({ host: bound.address, port: bound.port });
      if (url !== undefined)
        printer(options)(`Postern ${VERSION} is listening on ${url} (public URL ${config.publicUrl})`);
      runtime.roles.web = { app, url };
      return () => app.close();
    },
  },
];
