/**
 * The emulator for the outbox benchmark, in its own process (forked by `outbox-bench.ts`) so that
 * the dispatcher's CPU is measured alone: the generated tenant of `emulator-protocol.ts` (users
 * with mailboxes, a public client for ROPC), mail in memory, Exchange's submission limits on.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createExchangeExtension, type ExchangeExtension } from '../emulator/exchange/exchange-extension.js';
import { startEmulator } from '../emulator/main.js';
import { benchSeed } from './emulator-protocol.js';
import type { OutboxBenchReply, OutboxBenchRequest } from './outbox-protocol.js';

async function main(): Promise<void> {
  const users = Number(process.env.BENCH_ACCOUNTS ?? '100');
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'postern-bench-outbox-emulator-'));
  let exchange: ExchangeExtension | undefined;
  const handle = await startEmulator({
    dataDir,
    seed: benchSeed(users),
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
  const send = (reply: OutboxBenchReply): void => {
    process.send?.(reply);
  };
  process.on('message', (request: OutboxBenchRequest) => {
    switch (request.type) {
      case 'sent':
        send({
          type: 'sent',
          records: service.router.sent.map((r) => [r.mailbox, r.acceptedAt, r.content.header('message-id') ?? '']),
        });
        return;
      case 'stats': {
        const cpu = process.cpuUsage();
        send({ type: 'stats', rss: process.memoryUsage().rss, cpuMs: (cpu.user + cpu.system) / 1000 });
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
    caFile: handle.caFile,
    base: handle.urls.https,
    smtpPort: Number(new URL(handle.urls.smtp ?? 'x://0:0').port),
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
