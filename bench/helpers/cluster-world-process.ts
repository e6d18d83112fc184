/**
 * The cluster benchmark's world process (forked by `cluster-world.ts`): the Microsoft 365 emulator
 * — identity platform and Exchange, mail in memory — with the generated tenant of
 * `world-protocol.ts`, and a sampler of every mailbox's IMAP sessions. It answers the benchmark's
 * IPC requests.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { createExchangeExtension, type ExchangeExtension } from '../../emulator/exchange/exchange-extension.js';
import { startEmulator } from '../../emulator/main.js';
import type { ClusterWorldReply, ClusterWorldRequest } from './cluster-world.js';
import { now } from './figures.js';
import { queueMailbox, worldSeed } from './world-protocol.js';

const specSchema = z.object({ mailboxes: z.number().int().min(1), sampleMs: z.number().int().min(10) });

/** A watched mailbox: when first seen without a session, when first seen with one after that. */
interface Watched {
  droppedAt: number | null;
  backAt: number | null;
}

async function main(): Promise<void> {
  const spec = specSchema.parse(JSON.parse(process.env.CLUSTER_WORLD_SPEC ?? '{}'));
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'postern-bench-cluster-world-'));
  let exchange: ExchangeExtension | undefined;
  const handle = await startEmulator({
    dataDir,
    seed: worldSeed({ mailboxes: spec.mailboxes, senders: 0 }),
    exchange: false,
    extensions: [
      (core) => {
        exchange = createExchangeExtension(core, { inMemory: true });
        return exchange;
      },
    ],
  });
  const service = exchange?.service;
  if (service === undefined) throw new Error('the Exchange extension did not start');
  const send = (reply: ClusterWorldReply): void => {
    process.send?.(reply);
  };

  const mailboxes = Array.from({ length: spec.mailboxes }, (_, i) => queueMailbox(i + 1));
  const counts = new Array<number>(mailboxes.length).fill(0);
  let mostEver = 0;
  let watch = { since: now(), mailboxes: new Map<string, Watched>(), longestGapMs: 0 };
  let lastSample = now();
  const sample = (): void => {
    const at = now();
    watch.longestGapMs = Math.max(watch.longestGapMs, at - Math.max(lastSample, watch.since));
    lastSample = at;
    for (const [index, mailbox] of mailboxes.entries()) {
      const count = service.imap.connectionCount(mailbox);
      counts[index] = count;
      if (count > mostEver) mostEver = count;
      const watched = watch.mailboxes.get(mailbox);
      if (watched === undefined || watched.backAt !== null) continue;
      if (watched.droppedAt === null) {
        if (count === 0) watched.droppedAt = at;
      } else if (count > 0) {
        watched.backAt = at;
      }
    }
  };
  const sampler = setInterval(sample, spec.sampleMs);

  const report = (): ClusterWorldReply => ({
    type: 'watch',
    since: watch.since,
    mailboxes: [...watch.mailboxes].map(([mailbox, seen]) => [mailbox, seen.droppedAt, seen.backAt] as const),
    longestGapMs: watch.longestGapMs,
  });

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    clearInterval(sampler);
    void handle
      .close()
      .then(() => rm(dataDir, { recursive: true, force: true }))
      .then(() => process.exit(0));
  };
  // The benchmark ended without a word (interrupted, or killed): end too.
  process.once('disconnect', stop);

  process.on('message', (request: ClusterWorldRequest) => {
    switch (request.type) {
      case 'sessions': {
        global.gc?.();
        const memory = process.memoryUsage();
        send({
          type: 'sessions',
          connections: service.imap.connectionCount(),
          withNone: counts.filter((count) => count === 0).length,
          withOne: counts.filter((count) => count === 1).length,
          withMore: counts.filter((count) => count > 1).length,
          mostEver,
          rss: memory.rss,
          heapUsed: memory.heapUsed,
        });
        return;
      }
      case 'watch':
        watch = {
          since: now(),
          mailboxes: new Map(request.mailboxes.map((mailbox) => [mailbox, { droppedAt: null, backAt: null }])),
          longestGapMs: 0,
        };
        send(report());
        return;
      case 'watch-report':
        send(report());
        return;
      case 'stop':
        stop();
        return;
    }
  });

  send({
    type: 'ready',
    caFile: handle.caFile,
    authority: handle.urls.https,
    imapPort: Number(new URL(handle.urls.imap ?? 'x://0:0').port),
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
