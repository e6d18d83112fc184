/**
 * The emulator under benchmark, in its own process (started by `emulator-bench.ts` with `fork`),
 * so that the clients measuring it do not share its event loop. It serves a generated tenant of N
 * users, each with a mailbox, and answers IPC requests: fill a mailbox, deliver one message (for
 * IDLE latency), report memory and connection counts, stop.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createExchangeExtension, type ExchangeExtension } from '../emulator/exchange/exchange-extension.js';
import { startEmulator } from '../emulator/main.js';
import { benchMessage, benchSeed, type BenchReply, type BenchRequest } from './emulator-protocol.js';

async function main(): Promise<void> {
  const users = Number(process.env.BENCH_USERS ?? '1000');
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'postern-bench-emulator-'));
  let exchange: ExchangeExtension | undefined;
  const handle = await startEmulator({
    dataDir,
    seed: benchSeed(users),
    // The built-in Exchange half is replaced by one this process keeps a handle on (to fill mailboxes).
    exchange: false,
    extensions: [
      (core) => {
        exchange = createExchangeExtension(core, { inMemory: true });
        return exchange;
      },
    ],
  });
  const service = exchange?.service;
  if (!service) throw new Error('the Exchange extension did not start');
  const send = (reply: BenchReply): void => {
    process.send?.(reply);
  };

  process.on('message', (request: BenchRequest) => {
    switch (request.type) {
      case 'populate': {
        const inbox = service.store.mailbox(request.mailbox).wellKnown('inbox');
        for (let i = 0; i < request.count; i += 1) service.store.append(request.mailbox, inbox, benchMessage(i));
        send({ type: 'populated', count: inbox.size });
        return;
      }
      case 'deliver': {
        const sentAt = performance.timeOrigin + performance.now();
        service.router.deliver({
          envelopeFrom: 'load@example.org',
          recipients: [request.mailbox],
          raw: benchMessage(request.sequence),
        });
        send({ type: 'delivered', mailbox: request.mailbox, sentAt });
        return;
      }
      case 'stats': {
        global.gc?.();
        const memory = process.memoryUsage();
        const cpu = process.cpuUsage();
        send({
          type: 'stats',
          rss: memory.rss,
          heapUsed: memory.heapUsed,
          cpuMs: (cpu.user + cpu.system) / 1000,
          imapConnections: service.imap.connectionCount(),
        });
        return;
      }
      case 'stop':
        void handle
          .close()
          .then(() => rm(dataDir, { recursive: true, force: true }))
          .then(() => process.exit(0));
        return;
    }
  });

  send({
    type: 'ready',
    caPem: handle.caPem,
    tokenUrl: `${handle.urls.authority ?? ''}/oauth2/v2.0/token`,
    imapPort: Number(new URL(handle.urls.imap ?? 'x://0:0').port),
    smtpPort: Number(new URL(handle.urls.smtp ?? 'x://0:0').port),
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
