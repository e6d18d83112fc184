import type { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import { LIMITS } from '../../config/index.js';
import type { MailboxWorkers } from '../../workers/mailbox-workers.js';
import { describeHeapLimit, heapSizeLimitBytes, planThisProcess } from '../heap-limit.js';
import { Lifecycle } from '../lifecycle.js';
import { configuredRoles, openRuntime, type Runtime, type RuntimeOptions } from '../runtime.js';

export interface RunningServer {
  runtime: Runtime;
  /** The mailbox workers, when the worker role runs. */
  mailboxes: MailboxWorkers | undefined;
  app: FastifyInstance | undefined;
  /** The address actually bound (useful with port 0). */
  url: string | undefined;
  /** The runtime's one shutdown routine (`runtime.close()`). */
  stop(): Promise<void>;
}

/**
 * Opens the runtime, creates the first administrator on an empty database, and starts the roles
 * this process runs (the composition root's table, cli/runtime.ts). `stop()` stops them in
 * reverse order — the web stops accepting requests and lets in-flight ones finish — then closes
 * the database. With `lifecycle`, a stop requested during startup abandons it at the next step,
 * closing what was started, and this rejects with `ShutdownRequested`.
 */
export async function startServer(
  options: RuntimeOptions & { print?: (line: string) => void } = {},
): Promise<RunningServer> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const runtime = await openRuntime(options);
  const { config, services, log, lifecycle } = runtime;
  const logger = log.logger.child({ component: 'server' });
  try {
    const created = await lifecycle.step('first administrator', () => services.users.ensureFirstAdmin());
    if (created !== null) {
      print(`Created the administrator "${created.username}" with the password: ${created.password}`);
      print('It is shown only this once. Change it after signing in, or with "postern users passwd admin".');
    }
    await runtime.startRoles(configuredRoles(config), { print });
    // Registered last, so stopped first: the log says when the shutdown begins.
    await lifecycle.step(
      'announce stop',
      () => undefined,
      () => logger.info('postern stopping'),
    );
    logger.info({ roles: config.roles, url: runtime.roles.web?.url }, 'postern started');
  } catch (error) {
    await runtime.close().catch(() => undefined);
    throw error;
  }
  return {
    runtime,
    app: runtime.roles.web?.app,
    url: runtime.roles.web?.url,
    mailboxes: runtime.roles.mailboxSync,
    stop: () => runtime.close(),
  };
}

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('Start Postern: the HTTP API and UI (role "web") and the mailbox workers (role "worker")')
    .option('--roles <roles>', 'comma-separated roles to run: web, worker')
    .option('--port <port>', 'port to listen on (overrides POSTERN_PORT)')
    .option('--host <host>', 'address to listen on (overrides POSTERN_HOST)')
    .action(async (opts: { roles?: string; port?: string; host?: string }) => {
      // The handlers come first: a signal at any stage of the startup stops what was started so
      // far (the step under way finishes, the next ones are abandoned) and exits with 0.
      const lifecycle = new Lifecycle();
      let signalled = false;
      const shutdown = (signal: string): void => {
        signalled = true;
        process.stdout.write(`Received ${signal}, stopping…\n`);
        const timer = setTimeout(() => {
          process.stderr.write('In-flight work did not finish in time; exiting.\n');
          process.exit(1);
        }, LIMITS.shutdownGraceMs);
        timer.unref();
        lifecycle.stop().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      process.once('SIGINT', () => shutdown('SIGINT'));
      try {
        const server = await startServer({
          lifecycle,
          overrides: {
            ...(opts.roles === undefined ? {} : { roles: opts.roles }),
            ...(opts.port === undefined ? {} : { port: opts.port }),
            ...(opts.host === undefined ? {} : { host: opts.host }),
          },
        });
        const plan = planThisProcess(server.runtime.config.maxHeapMb);
        process.stdout.write(`${describeHeapLimit(plan)}\n`);
        server.runtime.log.logger
          .child({ component: 'server' })
          .info(
            { heapLimitMb: plan.limitMb, heapSource: plan.source, heapSizeLimitBytes: heapSizeLimitBytes() },
            'heap limit',
          );
      } catch (error) {
        // Stopped by a signal during startup: the handler ends the process.
        if (signalled) return;
        throw error;
      }
    });
}
