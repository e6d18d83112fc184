import type { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import { LIMITS } from '../../config/index.js';
import { buildApp } from '../../http/app.js';
import { meterDeliverer, startMetricsServer, type MetricsServer } from '../../metrics/index.js';
import { EventRetention } from '../../workers/event-retention.js';
import { MailboxWorkers } from '../../workers/mailbox-workers.js';
import { OutboxDispatcher } from '../../workers/outbox-dispatcher.js';
import { TokenKeeper } from '../../workers/token-keeper.js';
import { WebhookDispatcher } from '../../workers/webhook-dispatcher.js';
import { openRuntime, VERSION, type Runtime, type RuntimeOptions } from '../runtime.js';

export interface RunningServer {
  runtime: Runtime;
  /** The mailbox workers, when the worker role runs. */
  mailboxes: MailboxWorkers | undefined;
  app: FastifyInstance | undefined;
  /** The address actually bound (useful with port 0). */
  url: string | undefined;
  stop(): Promise<void>;
}

/**
 * Opens the runtime, creates the first administrator on an empty database, and starts the roles
 * this process runs. `stop()` stops accepting requests, lets in-flight ones finish, then closes
 * the database.
 */
export async function startServer(
  options: RuntimeOptions & { print?: (line: string) => void } = {},
): Promise<RunningServer> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const runtime = await openRuntime(options);
  const { config, services, log } = runtime;
  const logger = log.logger.child({ component: 'server' });
  let app: FastifyInstance | undefined;
  let url: string | undefined;
  let keeper: TokenKeeper | undefined;
  let mailboxes: MailboxWorkers | undefined;
  let webhooks: WebhookDispatcher | undefined;
  let retention: EventRetention | undefined;
  let metricsServer: MetricsServer | undefined;
  let outbox: OutboxDispatcher | undefined;
  try {
    const created = await services.users.ensureFirstAdmin();
    if (created !== null) {
      print(`Created the administrator "${created.username}" with the password: ${created.password}`);
      print('It is shown only this once. Change it after signing in, or with "postern users passwd admin".');
    }
    if (config.roles.includes('worker')) {
      keeper = new TokenKeeper(runtime.db, services.accessTokens, log.logger.child({ component: 'token-keeper' }));
      keeper.start();
      webhooks = new WebhookDispatcher(runtime.db, runtime.box, log.logger.child({ component: 'webhooks' }), {
        userAgent: `Postern/${VERSION}`,
        observer: services.metrics,
      });
      webhooks.start();
      retention = new EventRetention(runtime.db, log.logger.child({ component: 'retention' }), {
        retentionDays: config.eventRetentionDays,
      });
      retention.start();
      const dispatcher = webhooks;
      mailboxes = new MailboxWorkers(runtime.db, services.accounts, services.accessTokens, log.logger, {
        onIngested: (result) => {
          services.metrics.observeIngest(result.outcome);
          dispatcher.wake();
        },
      });
      const running = mailboxes;
      services.metrics.trackMailboxWorkers(() => running.running().length);
      await mailboxes.start();
      const sender = new OutboxDispatcher(
        runtime.db,
        meterDeliverer(services.outbound.delivery, services.metrics),
        log.logger.child({ component: 'outbox' }),
      );
      services.outbound.send.events.on('queued', () => sender.wake());
      sender.start();
      outbox = sender;
    }
    if (config.roles.includes('web')) {
      app = await buildApp({ config, logger: log.logger, services, version: VERSION });
      const bound = await app.listen({ host: config.host, port: config.port });
      url = bound;
      print(`Postern ${VERSION} is listening on ${bound} (public URL ${config.publicUrl})`);
    }
    if (config.metricsListen !== '') {
      metricsServer = await startMetricsServer(services.metrics, config.metricsListen, (error) =>
        logger.error({ err: error }, 'metrics could not be collected'),
      );
      print(`Prometheus metrics on ${metricsServer.url}/metrics (no token: keep this address private)`);
    }
    logger.info({ roles: config.roles, url }, 'postern started');
  } catch (error) {
    await app?.close().catch(() => undefined);
    await metricsServer?.close().catch(() => undefined);
    await keeper?.stop();
    await mailboxes?.stop();
    await outbox?.stop();
    services.outbound.submitter.close();
    await webhooks?.stop();
    await retention?.stop();
    await runtime.close();
    throw error;
  }

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      logger.info('postern stopping');
      await app?.close();
      await metricsServer?.close();
      await mailboxes?.stop();
      await keeper?.stop();
      await outbox?.stop();
      services.outbound.submitter.close();
      await webhooks?.stop();
      await retention?.stop();
      await runtime.close();
    })();
    return stopping;
  };
  return { runtime, app, url, mailboxes, stop };
}

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('Start Postern: the HTTP API and UI (role "web") and the mailbox workers (role "worker")')
    .option('--roles <roles>', 'comma-separated roles to run: web, worker')
    .option('--port <port>', 'port to listen on (overrides POSTERN_PORT)')
    .option('--host <host>', 'address to listen on (overrides POSTERN_HOST)')
    .action(async (opts: { roles?: string; port?: string; host?: string }) => {
      const starting = startServer({
        overrides: {
          ...(opts.roles === undefined ? {} : { roles: opts.roles }),
          ...(opts.port === undefined ? {} : { port: opts.port }),
          ...(opts.host === undefined ? {} : { host: opts.host }),
        },
      });
      // Installed before startup's first await, so no signal can find the process without them: a
      // SIGTERM or SIGINT while the database opens, migrates or the port binds (or between printing
      // the URL and returning) waits for startup to settle, then stops cleanly with exit code 0.
      const shutdown = (signal: string): void => {
        process.stdout.write(`Received ${signal}, stopping…\n`);
        const timer = setTimeout(() => {
          process.stderr.write('In-flight work did not finish in time; exiting.\n');
          process.exit(1);
        }, LIMITS.shutdownGraceMs);
        timer.unref();
        starting.then(
          (server) =>
            server.stop().then(
              () => process.exit(0),
              () => process.exit(1),
            ),
          // A startup that failed is reported by the action, with its exit code.
          () => undefined,
        );
      };
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      process.once('SIGINT', () => shutdown('SIGINT'));
      await starting;
    });
}
