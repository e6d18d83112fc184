import path from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { startEmulator } from '../../../emulator/main.js';
import { Lifecycle } from '../lifecycle.js';
import { startServer } from './start.js';

const DEMO_ADMIN = { username: 'admin', password: 'postern-demo-admin' };
const DEMO_AGENT = { username: 'agent', password: 'postern-demo-agent' };

/** Identifiers of the sample tenant (emulator/seeds/contoso.json) the guide's flow uses. */
const CONTOSO = {
  tenantId: '7a3c9f4e-2b1d-4e8a-9c6f-1d2e3f4a5b6c',
  applicationId: '5e7f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a01',
  clientSecret: 'Xy78Q~postern.web.valid.secret.0123456789',
  delegate: { upn: 'andrea@contoso.com', password: 'Andrea#2025' },
  shared: 'developers@contoso.com',
};

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65_535)
    throw new InvalidArgumentError('expected a port number (1-65535)');
  return port;
}

interface DemoOptions {
  port: number;
  emulatorPort: number;
  imapPort: number;
  smtpPort: number;
  data: string;
}

/**
 * `postern demo` (and `npm run demo`): the Microsoft 365 emulator with the sample tenant, and
 * Postern on its embedded default against it, with an administrator and an agent — then it prints
 * what to type to follow the reference guide from start to finish.
 */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('Run Postern and the Microsoft 365 emulator together, with a sample tenant, to try the whole flow')
    .option(
      '--port <n>',
      "Postern's port (the sample app registers http://localhost:8080 as redirect URI)",
      parsePort,
      8080,
    )
    .option('--emulator-port <n>', "the emulator's HTTPS port", parsePort, 8443)
    .option('--imap-port <n>', "the emulator's IMAP port", parsePort, 9993)
    .option('--smtp-port <n>', "the emulator's SMTP submission port", parsePort, 9587)
    .option('--data <dir>', 'data directory of the demo', path.join('data', 'demo'))
    .action(async (options: DemoOptions) => {
      // One lifecycle for both: the emulator starts first and stops last, after Postern's roles;
      // a signal at any stage stops what was started.
      const lifecycle = new Lifecycle();
      let signalled = false;
      const stopped = new Promise<void>((resolve) => {
        const stop = (): void => {
          signalled = true;
          resolve();
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      }).then(() => lifecycle.stop());
      let emulator: Awaited<ReturnType<typeof startEmulator>>;
      try {
        emulator = await lifecycle.step(
          'emulator',
          () =>
            startEmulator({
              dataDir: path.join(options.data, 'emulator'),
              port: options.emulatorPort,
              exchange: { imap: { port: options.imapPort }, smtp: { port: options.smtpPort } },
            }),
          (started) => started.close(),
        );
        const server = await startServer({
          lifecycle,
          env: {
            ...process.env,
            POSTERN_DATA_DIR: path.join(options.data, 'postern'),
            POSTERN_PORT: String(options.port),
            POSTERN_PUBLIC_URL: `http://localhost:${options.port}`,
            POSTERN_LOG_CONSOLE: 'false',
          },
          print: () => undefined,
        });
        await lifecycle.step('demo users', async () => {
          const { users } = server.runtime.services;
          const admin = await users.getByUsername(DEMO_ADMIN.username);
          await users.update(admin.id, { password: DEMO_ADMIN.password });
          const agent = (await users.list()).find((u) => u.username === DEMO_AGENT.username);
          if (agent === undefined) await users.create({ ...DEMO_AGENT, role: 'agent', displayName: 'Demo agent' });
          else await users.update(agent.id, { password: DEMO_AGENT.password });
        });
      } catch (error) {
        if (signalled) return stopped;
        await lifecycle.stop().catch(() => undefined);
        throw error;
      }
      const print = (line: string): void => {
        process.stdout.write(`${line}\n`);
      };

      const ui = `http://localhost:${options.port}/ui/`;
      const control = `curl --cacert ${emulator.caFile} -X POST ${emulator.urls.control}/exchange/messages -H "authorization: Bearer ${emulator.controlToken}" -H "content-type: application/json" -d '{"from":"Carla Customer <carla@customer.example>","to":"${CONTOSO.shared}","subject":"The build is red","text":"Since this morning the pipeline fails."}'`;
      for (const line of [
        'Postern demo: Postern and the Microsoft 365 emulator (not Microsoft) are running.',
        '',
        `1. Open ${ui} and sign in as ${DEMO_ADMIN.username} / ${DEMO_ADMIN.password} (the agent is ${DEMO_AGENT.username} / ${DEMO_AGENT.password}).`,
        '2. Cloud Providers → New, with the sample app registration:',
        `     Application Id  ${CONTOSO.applicationId}`,
        `     Tenant Id       ${CONTOSO.tenantId}`,
        `     Client Secret   ${CONTOSO.clientSecret}`,
        `     Cloud           custom — Authority URL ${emulator.urls.https}, CA file ${emulator.caFile}`,
        `3. Authenticate, and sign in on the emulator's Microsoft-like page as ${CONTOSO.delegate.upn} / ${CONTOSO.delegate.password}`,
        `   (your browser does not know the emulator's CA: accept the warning for ${emulator.urls.https}, or import ${emulator.caFile}).`,
        `4. Email Accounts → New: Email Address and Username ${CONTOSO.shared}, Modern Authentication Email ${CONTOSO.delegate.upn},`,
        `   the provider above, IMAP 127.0.0.1:${options.imapPort}, SMTP 127.0.0.1:${options.smtpPort}; assign the agent.`,
        '5. Send a customer mail into the shared mailbox:',
        `   ${control}`,
        `6. Sign in as ${DEMO_AGENT.username}, open the conversation in the tab of the account's Key, and reply: the reply reaches`,
        `   the emulator's outside world (GET ${emulator.urls.control}/exchange/sink with the same token).`,
        '',
        'Press Ctrl+C to stop.',
      ]) {
        print(line);
      }
      await stopped;
    });
}
