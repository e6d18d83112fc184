/**
 * Benchmark of Graph sending (`npm run bench:graph-outbox`), issue 14's acceptance: 10,000
 * messages queued across 100 accounts of transport `graph`, dispatched in real time through the
 * outbox against the emulator's Microsoft Graph — as `outbox-bench.ts` does for SMTP.
 *
 * The emulator runs in its own process (`helpers/world*.ts`): 100 shared mailboxes
 * (`queue0001@` …) with one delegate (`agent@`, FullAccess and Send As), Graph over the same
 * mail store and mail flow, its limits as they are — MailboxConcurrency (4 requests of one app on
 * one mailbox in flight, `429` + `Retry-After` beyond), the rolling-day recipient quota, delivery
 * on the 30-a-minute schedule. Postern, in this process: a runtime on the embedded SQLite in a
 * fresh data directory (or BENCH_DATABASE_URL), a Cloud Provider with Graph's mail scopes, the
 * delegate signed in (ROPC), 100 accounts of transport `graph` created through the account
 * service, each at Exchange's default limits (30 messages a minute, 10,000 recipients a day) with
 * Graph's 4 sends at once; 10,000 messages (one external recipient each, 100 per account,
 * interleaved) queued through the send service; then the composition root's outbox role until
 * every row is `sent` or `failed`. Each send is `POST /users/{mailbox}/sendMail` with the stored
 * MIME in base64.
 *
 * Reports: time to queue; time to dispatch everything; throughput; per-message latency (claim →
 * recorded sent, the Graph call with any waiting; claim → accepted by the emulator); the 429s the
 * emulator answered (any would mean Postern went over 4 in flight on a mailbox); `sendMail` calls
 * accepted and distinct Message-IDs in the emulator's sent log (duplicates must be 0); the most
 * sends of one account in any sliding minute (limit 30); retries and failures; CPU of both
 * processes. Never run as a timed test; figures go to docs/PERFORMANCE.md.
 *
 * Environment: BENCH_ACCOUNTS (100), BENCH_PER_ACCOUNT (100), BENCH_CONCURRENCY (4, the accounts'
 * sends at once; Postern caps Graph at 4), BENCH_DATABASE_URL (embedded SQLite).
 */
import { z } from 'zod';
import { describeMachine, now, printFigures, quantile } from './helpers/figures.js';
import { createQueueAccounts, openPostern } from './helpers/postern-side.js';
import { World } from './helpers/world.js';
import { WORLD_GRAPH_SCOPES } from './helpers/world-protocol.js';

const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? '100');
const PER_ACCOUNT = Number(process.env.BENCH_PER_ACCOUNT ?? '100');
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? '4');
const TOTAL = ACCOUNTS * PER_ACCOUNT;
const MINUTE = 60_000;
const retryCode = z.object({ code: z.string() });
/** The emulator's sent log keeps this many records (its MailRouter's default). */
const SENT_LOG_CAPACITY = 10_000;

function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}

/** A Message-ID as a key: without angle brackets, lower case. */
function idKey(messageId: string): string {
  const trimmed = messageId.trim();
  return (trimmed.startsWith('<') && trimmed.endsWith('>') ? trimmed.slice(1, -1) : trimmed).toLowerCase();
}

/** `p50 / p90 / p99 / max` of `values` in ms. */
function percentiles(values: readonly number[]): string {
  return [0.5, 0.9, 0.99, 1]
    .map((q) => quantile(values, q))
    .map((ms) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(0)} ms`))
    .join(' / ');
}

async function main(): Promise<void> {
  const machine = describeMachine();
  process.stdout.write(`Machine: ${machine}\n`);
  const world = await World.start({ mailboxes: ACCOUNTS, senders: 0 });
  try {
    const setupStarted = now();
    const side = await openPostern(world.ready, {
      scopes: WORLD_GRAPH_SCOPES,
      logLevel: 'warn',
      ...(process.env.BENCH_DATABASE_URL === undefined
        ? {}
        : { env: { POSTERN_DATABASE_URL: process.env.BENCH_DATABASE_URL } }),
    });
    try {
      const { runtime } = side;
      const { services, db } = runtime;
      const accounts = await createQueueAccounts(side, world.ready, ACCOUNTS, {
        firstSync: { kind: 'new' },
        transport: 'graph',
      });
      const admin = await services.users.create({
        username: 'bench',
        role: 'admin',
        password: 'a long enough password',
      });
      const caller = { viewer: { userId: admin.id, role: 'admin' as const } };
      for (const account of accounts)
        await services.outbound.send.updateSending(caller.viewer, account.id, { concurrency: CONCURRENCY });
      // The delegate's Graph token, shared by every account, is fetched before the clock starts.
      const first = accounts[0];
      if (first === undefined) throw new Error('no account');
      await services.accessTokens.accessToken((await services.accounts.grantFor(first)).id, 'graph');
      const setupMs = now() - setupStarted;

      const queueStarted = now();
      const queueCpu = process.cpuUsage();
      for (let i = 0; i < TOTAL; i += 1) {
        const account = accounts[i % ACCOUNTS];
        if (account === undefined) throw new Error('no account');
        await services.outbound.send.send(caller, account.id, {
          to: [`customer${i}@example.org`],
          subject: `Order ${i}: shipment update`,
          text: `Your order ${i} left the warehouse today.\n\nKind regards,\nSupport`,
        });
      }
      const queueMs = now() - queueStarted;
      const queueCpuMs = cpuMs(process.cpuUsage(queueCpu));
      process.stdout.write(`queued ${TOTAL} messages on ${ACCOUNTS} accounts in ${(queueMs / 1000).toFixed(1)} s\n`);

      await world.ask({ type: 'graph-report' });
      const before = await world.stats();
      const dispatchCpu = process.cpuUsage();
      const started = now();
      // The composition root's outbox role (the dispatcher `postern start` runs).
      await runtime.startRoles(['outboxDispatch']);
      let done = 0;
      let lastReport = started;
      while (done < TOTAL) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        const row = await db.kysely
          .selectFrom('outbox')
          .select((eb) => eb.fn.countAll<number | string>().as('n'))
          .where('state', 'in', ['sent', 'failed'])
          .executeTakeFirstOrThrow();
        done = Number(row.n);
        if (now() - lastReport > 30_000) {
          lastReport = now();
          process.stdout.write(`  ${done} done after ${((now() - started) / 1000).toFixed(0)} s\n`);
        }
      }
      const dispatchMs = now() - started;
      const dispatchCpuMs = cpuMs(process.cpuUsage(dispatchCpu));
      // Stopped again (a no-op) with everything else by side.close() below.
      await runtime.roles.outboxDispatch?.stop();
      const after = await world.stats();
      const graph = await world.ask({ type: 'graph-report' });
      if (graph.type !== 'graph-report') throw new Error(`unexpected reply ${graph.type}`);

      const rows = await db.kysely
        .selectFrom('outbox')
        .innerJoin('messages', 'messages.id', 'outbox.message_id')
        .select([
          'outbox.state as state',
          'outbox.last_attempt_at as claimedAt',
          'outbox.sent_at as sentAt',
          'messages.message_id as messageId',
        ])
        .execute();
      const events = async (type: string): Promise<number> =>
        Number(
          (
            await db.kysely
              .selectFrom('events')
              .select((eb) => eb.fn.countAll<number | string>().as('n'))
              .where('type', '=', type)
              .executeTakeFirstOrThrow()
          ).n,
        );
      const retries = await events('message.retry_scheduled');
      const failures = await events('message.failed');
      // Why attempts failed for now, by catalogue code, with one message of each.
      const retryCauses = new Map<string, { count: number; example: string }>();
      for (const event of await db.kysely
        .selectFrom('events')
        .select(['message', 'data_json'])
        .where('type', 'in', ['message.retry_scheduled', 'message.failed'])
        .execute()) {
        const code = retryCode.safeParse(JSON.parse(event.data_json ?? '{}')).data?.code ?? 'unknown';
        const cause = retryCauses.get(code) ?? { count: 0, example: event.message };
        retryCauses.set(code, { ...cause, count: cause.count + 1 });
      }

      // Per-message latencies, from the outbox (claim of the attempt that sent it → recorded sent)
      // and from the emulator (same claim → Graph accepted the sendMail).
      const acceptedAt = new Map<string, number>();
      const seen = new Map<string, number>();
      for (const [, at, messageId] of graph.sent) {
        const key = idKey(messageId);
        acceptedAt.set(key, at);
        seen.set(key, (seen.get(key) ?? 0) + 1);
      }
      const sendLatency: number[] = [];
      const acceptLatency: number[] = [];
      for (const row of rows) {
        if (row.state !== 'sent' || row.claimedAt === null || row.sentAt === null) continue;
        const claimed = Date.parse(row.claimedAt);
        sendLatency.push(Date.parse(row.sentAt) - claimed);
        const accepted = row.messageId === null ? undefined : acceptedAt.get(idKey(row.messageId));
        if (accepted !== undefined) acceptLatency.push(accepted - claimed);
      }
      const sent = rows.filter((row) => row.state === 'sent').length;

      // The limits, from the emulator's log: sends of one mailbox in any sliding minute, and per clock minute.
      const byMailbox = new Map<string, number[]>();
      for (const [mailbox, at] of graph.sent) byMailbox.set(mailbox, [...(byMailbox.get(mailbox) ?? []), at]);
      let worstSliding = 0;
      for (const times of byMailbox.values()) {
        times.sort((a, b) => a - b);
        let start = 0;
        for (let end = 0; end < times.length; end += 1) {
          while ((times[end] ?? 0) - (times[start] ?? 0) >= MINUTE) start += 1;
          worstSliding = Math.max(worstSliding, end - start + 1);
        }
      }
      const histogram = new Map<number, number>();
      for (const [, at] of graph.sent) {
        const minute = Math.floor((at - started) / MINUTE);
        histogram.set(minute, (histogram.get(minute) ?? 0) + 1);
      }
      const accepted = graph.sent.map(([, at]) => at).sort((a, b) => a - b);
      const span = (accepted.at(-1) ?? 0) - (accepted[0] ?? 0);
      const throttled = graph.statuses['429'] ?? 0;
      const duplicates = [...seen.values()].filter((n) => n > 1).length;

      printFigures(`Graph sending: ${TOTAL} messages across ${ACCOUNTS} accounts of transport graph`, {
        accounts: ACCOUNTS,
        messages: TOTAL,
        limits: `${30}/min per account, 10,000 recipients/day, ${Math.min(CONCURRENCY, 4)} sends at once (MailboxConcurrency 4)`,
        setupSeconds: setupMs / 1000,
        queueSeconds: queueMs / 1000,
        queueMessagesPerSecond: TOTAL / (queueMs / 1000),
        queueCpuMsPerMessage: queueCpuMs / TOTAL,
        dispatchSeconds: dispatchMs / 1000,
        firstToLastAcceptanceSeconds: span / 1000,
        throughputMessagesPerMinute: sent / (dispatchMs / MINUTE),
        sentFailed: `${sent} / ${rows.length - sent}`,
        claimToSentP50P90P99Max: percentiles(sendLatency),
        claimToAcceptedP50P90P99Max: percentiles(acceptLatency),
        graph429s: throttled,
        graphAnswersByStatus: Object.entries(graph.statuses)
          .map(([status, n]) => `${status}: ${n}`)
          .join(', '),
        sendMailAccepted: graph.sendMailAccepted,
        sentLogRecordsDistinct: `${graph.sent.length} / ${seen.size}`,
        duplicates,
        worstSlidingMinuteOfOneAccount: worstSliding,
        retriesScheduled: retries,
        failures,
        retryAndFailureCodes: [...retryCauses].map(([code, cause]) => `${code} × ${cause.count}`).join(', ') || 'none',
        dispatcherCpuSeconds: dispatchCpuMs / 1000,
        dispatcherCpuMsPerMessage: dispatchCpuMs / TOTAL,
        emulatorCpuSeconds: (after.cpuMs - before.cpuMs) / 1000,
        posternRssMegabytes: process.memoryUsage().rss / 1_048_576,
      });
      process.stdout.write(
        `per-minute histogram (all accounts, minute since dispatch start: accepted)\n${[...histogram.entries()]
          .sort((a, b) => a[0] - b[0])
          .map(([minute, count]) => `  ${minute}: ${count}`)
          .join('\n')}\n`,
      );
      for (const [code, cause] of retryCauses) process.stdout.write(`  ${code}, e.g.: ${cause.example}\n`);
      const problems = [
        ...(sent === TOTAL ? [] : [`${TOTAL - sent} messages were not sent`]),
        ...(duplicates === 0 && graph.sendMailAccepted <= TOTAL ? [] : ['a message was sent twice']),
        ...(TOTAL > SENT_LOG_CAPACITY || seen.size === TOTAL
          ? []
          : [`the emulator's sent log holds ${seen.size} distinct messages, not ${TOTAL}`]),
        ...(worstSliding <= 30 ? [] : [`an account sent ${worstSliding} in one minute`]),
      ];
      process.stdout.write(problems.length === 0 ? '\nOK: everything sent once, within the limits\n' : '\n');
      for (const problem of problems) process.stdout.write(`PROBLEM: ${problem}\n`);
      if (problems.length > 0) process.exitCode = 1;
    } finally {
      await side.close();
    }
  } finally {
    await world.stop();
  }
}

main().then(
  // Keep-alive sockets and the parse pool would hold the process open.
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
