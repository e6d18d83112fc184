/**
 * One phase of the fault soak on one database engine: the emulator with N shared mailboxes, a
 * fresh Postern (`postern start`, data directory on a small disk) with one account per mailbox,
 * mail delivered at a steady rate and replies queued through the API while faults are injected
 * at random; then the faults end, Postern drains (bounded), and what it holds is compared with
 * what was delivered and what the emulator accepted (`soak-verify.ts`).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { startOwnPostgres, type OwnPostgres } from '../../test/host/own-postgres.js';
import { sleep } from './figures.js';
import {
  EmulatorFaults,
  hostFaultDeck,
  type FaultKind,
  type FaultRecord,
  type HostFaultKind,
  seededRandom,
} from './soak-faults.js';
import { makeSmallDisk, openPostgresStore, openSqliteStore, type SmallDisk, type SoakStore } from './soak-host.js';
import { PosternUnderSoak, runPosternCli, type Crash } from './soak-postern.js';
import { drain, problemsOf, verify, type Delivered, type ReplyOutcome, type Verdict } from './soak-verify.js';
import { SoakWorld } from './soak-world.js';
import { WORLD_AGENT, WORLD_CLIENT_ID, WORLD_PASSWORD, WORLD_TENANT_ID } from './world-protocol.js';

/** A phase's settings. */
export interface PhaseOptions {
  readonly engine: 'sqlite' | 'postgres';
  /** The run's seed; each stream of choices (mail, replies, emulator faults, host faults) has its own generator from it. */
  readonly seed: number;
  /** How long mail flows under faults. */
  readonly seconds: number;
  /** The longest wait for Postern to drain once the faults end. */
  readonly drainSeconds: number;
  readonly mailboxes: number;
  /** Messages delivered a second, over all mailboxes. */
  readonly messagesPerSecond: number;
  /** Replies queued a second. */
  readonly repliesPerSecond: number;
  /** Size of the small disk. */
  readonly diskMb: number;
}

/** What a phase did and found. */
export interface PhaseResult extends Verdict {
  readonly engine: 'sqlite' | 'postgres';
  /** Seconds of mail under faults. */
  readonly seconds: number;
  readonly faults: readonly FaultRecord[];
  /** Faults that do not apply here, with the reason. */
  readonly notInjected: readonly string[];
  readonly crashes: readonly Crash[];
  readonly startFailures: number;
  /** Where Postern's logs were copied when something was wrong. */
  readonly logsKeptIn?: string;
}

const HOST_FAULT_FIRST_S = 20;
const HEALTH_EVERY_MS = 2000;
const TRACES_AFTER_MS = 3000;
const DISK_FULL_S = 30;
const accountCreated = z.object({ id: z.number() });
const accountList = z.object({ items: z.array(z.object({ id: z.number(), status: z.string() })) });
const interactionList = z.object({ items: z.array(z.object({ id: z.number() })) });
const queued = z.object({ id: z.number(), messageId: z.string() });
const errorAnswer = z.object({ error: z.object({ code: z.string() }) });
const healthAnswer = z.object({ status: z.string(), store: z.object({ code: z.string() }).optional() });

/** Signs in the provider and creates one account per mailbox through the API; mailbox → account id. */
async function createAccounts(postern: PosternUnderSoak, world: SoakWorld): Promise<Map<string, number>> {
  const provider = accountCreated.parse(
    await postern.call('POST', '/api/cloudProviders', {
      name: 'Soak tenant',
      applicationId: WORLD_CLIENT_ID,
      tenantId: WORLD_TENANT_ID,
      cloud: 'custom',
      authorityUrl: world.authority,
      caFile: world.caFile,
      grantType: 'password',
    }),
  );
  await postern.call('POST', `/api/cloudProviders/${provider.id}/authenticate`, {
    username: WORLD_AGENT,
    password: WORLD_PASSWORD,
  });
  const list = accountCreated.parse(await postern.call('POST', '/api/lists', { name: 'Customers' }));
  const accounts = new Map<string, number>();
  for (const [index, mailbox] of world.mailboxes.entries()) {
    const created = accountCreated.parse(
      await postern.call('POST', '/api/email/accounts', {
        name: `Queue ${index + 1}`,
        key: `Q${String(index + 1).padStart(4, '0')}`,
        emailAddress: mailbox,
        username: mailbox,
        service: 'outlook365',
        providerId: provider.id,
        modernAuthEmail: WORLD_AGENT,
        defaultListId: list.id,
        transport: 'imap_smtp',
        imapHost: '127.0.0.1',
        imapPort: world.imapPort,
        smtpHost: '127.0.0.1',
        smtpPort: world.smtpPort,
        firstSync: { kind: 'all' },
      }),
    );
    accounts.set(mailbox, created.id);
  }
  return accounts;
}

/** Waits (60 s at most) until every account is connected; returns how many are. */
async function waitConnected(postern: PosternUnderSoak, count: number): Promise<number> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { items } = accountList.parse(await postern.call('GET', '/api/email/accounts'));
    const connected = items.filter((item) => item.status === 'connected').length;
    if (connected === count || Date.now() > deadline) return connected;
    await sleep(1000);
  }
}

/** Everything a phase started, stopped in reverse order. */
class Started {
  private readonly steps: Array<() => Promise<void> | void> = [];
  add(step: () => Promise<void> | void): void {
    this.steps.push(step);
  }
  async stopAll(): Promise<void> {
    for (const step of this.steps.reverse()) {
      try {
        await step();
      } catch (error) {
        process.stderr.write(`  cleanup: ${String(error)}\n`);
      }
    }
  }
}

/** Runs one phase; always cleans up what it started. */
export async function runPhase(options: PhaseOptions): Promise<PhaseResult> {
  const started = new Started();
  // An interrupted run leaves nothing behind: no tmpfs mounted, no PostgreSQL, no Postern.
  const interrupt = (): void => void started.stopAll().finally(() => process.exit(130));
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    return await run(options, started);
  } finally {
    process.removeListener('SIGINT', interrupt);
    process.removeListener('SIGTERM', interrupt);
    await started.stopAll();
  }
}

async function run(options: PhaseOptions, started: Started): Promise<PhaseResult> {
  const { engine } = options;
  const phaseSeed = options.seed + (engine === 'sqlite' ? 0 : 1000);
  const mailRandom = seededRandom(phaseSeed + 1);
  const replyRandom = seededRandom(phaseSeed + 2);
  const hostRandom = seededRandom(phaseSeed + 3);
  const gapRandom = seededRandom(phaseSeed + 5);
  const log = (line: string): void => void process.stdout.write(`  [${engine} ${since().toFixed(0)} s] ${line}\n`);
  let phaseStart = Date.now();
  const since = (): number => (Date.now() - phaseStart) / 1000;

  const world = await SoakWorld.start(options.mailboxes);
  started.add(() => world.close());
  const disk: SmallDisk = makeSmallDisk(options.diskMb);
  started.add(() => disk.remove());
  let postgres: OwnPostgres | undefined;
  if (engine === 'postgres') {
    postgres = await startOwnPostgres();
    const pgServer = postgres;
    started.add(() => pgServer.remove());
  }
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    POSTERN_DATA_DIR: disk.dataDir,
    POSTERN_SECRET_KEY: crypto.randomBytes(32).toString('hex'),
    POSTERN_LOG_CONSOLE: 'false',
    ...(postgres === undefined ? {} : { POSTERN_DATABASE_URL: postgres.url }),
  };
  runPosternCli(['users', 'add', 'ops', '--role', 'admin', '--password-stdin'], env, 'ops-password-123456\n');
  const token = /Token \(shown once\): (pst_\S+)/.exec(
    runPosternCli(['tokens', 'create', 'soak', '--user', 'ops'], env),
  )?.[1];
  if (token === undefined) throw new Error('no API token was printed');
  const postern = new PosternUnderSoak(env, disk.dataDir, since);
  postern.bearer = `Bearer ${token}`;
  await postern.start();
  started.add(() => postern.remove());
  const store: SoakStore =
    postgres === undefined ? openSqliteStore(path.join(disk.dataDir, 'postern.db')) : openPostgresStore(postgres.url);
  started.add(() => store.close());
  const accounts = await createAccounts(postern, world);
  const connected = await waitConnected(postern, accounts.size);
  log(`set up: ${accounts.size} accounts created, ${connected} connected; the faults begin`);

  const notInjected: string[] = [];
  const hostKinds: HostFaultKind[] = ['postern-sigkill'];
  if (disk.cannotFill === undefined) hostKinds.push('disk-full');
  else notInjected.push(`disk-full: ${disk.cannotFill}`);
  if (postgres !== undefined) hostKinds.push('database-restart');
  else notInjected.push('database-restart: SQLite is a file in the data directory, there is no server to restart');

  const faults: FaultRecord[] = [];
  const record = (kind: FaultKind, detail: string): FaultRecord => {
    const fault: FaultRecord = { kind, at: since(), detail };
    faults.push(fault);
    log(`fault ${kind}: ${detail}`);
    return fault;
  };
  /** What Postern's logs say of a full disk so far. */
  const diskFullTraces = (): { drops: number; storeFull: number } => ({
    drops: postern.countLogLines('"reason":"ENOSPC"'),
    storeFull: postern.countLogLines('STORE_DISK_FULL'),
  });
  /** Waits `ms`, asking `/health` every 2 s; says what it answered (or that nothing did). */
  const watchHealth = async (ms: number): Promise<string> => {
    const seen = new Set<string>();
    const until = Date.now() + ms;
    while (Date.now() < until) {
      try {
        const answer = await postern.api('GET', '/health');
        const parsed = healthAnswer.safeParse(answer.body);
        seen.add(
          parsed.success
            ? `${parsed.data.status}${parsed.data.store === undefined ? '' : ` ${parsed.data.store.code}`}`
            : `HTTP ${answer.status}`,
        );
      } catch {
        seen.add('no answer');
      }
      await sleep(Math.min(HEALTH_EVERY_MS, until - Date.now()));
    }
    return `/health meanwhile: ${[...seen].join(', ')}`;
  };
  const emulatorFaults = new EmulatorFaults(world, seededRandom(phaseSeed + 4), record);
  phaseStart = Date.now();
  const faultsEnd = phaseStart + options.seconds * 1000;
  const hardEnd = faultsEnd + options.drainSeconds * 1000;
  const delivered: Delivered[] = [];
  const replies: Array<Promise<ReplyOutcome>> = [];

  const deliverLoop = async (): Promise<void> => {
    for (let n = 1; ; n += 1) {
      const due = phaseStart + (n * 1000) / options.messagesPerSecond;
      if (due >= faultsEnd) return;
      await sleep(due - Date.now());
      const mailbox = mailRandom.pick(world.mailboxes);
      const customer = mailRandom.between(1, 400);
      const messageId = `<soak-${options.seed}-${engine}-${n}@customer.example>`;
      await world.deliver(mailbox, {
        from: `Customer ${customer} <customer${customer}@customer.example>`,
        subject: `Soak question ${n}`,
        text: `Question number ${n} for ${mailbox}.`,
        messageId,
      });
      delivered.push({ mailbox, messageId });
    }
  };

  const queueReply = async (n: number): Promise<ReplyOutcome> => {
    const key = `soak-${options.seed}-${engine}-reply-${n}`;
    const mailbox = replyRandom.pick(delivered.map((d) => d.mailbox));
    const accountId = accounts.get(mailbox);
    let interactionId: number | undefined;
    try {
      const answer = await postern.api('GET', `/api/email/accounts/${accountId ?? 0}/interactions`);
      if (answer.status === 200) {
        const items = interactionList.parse(answer.body).items;
        interactionId = items.length === 0 ? undefined : replyRandom.pick(items).id;
      }
    } catch {
      // Postern is down or busy: no reply this time.
    }
    if (interactionId === undefined) return { key, kind: 'not-attempted' };
    for (;;) {
      try {
        const answer = await postern.api(
          'POST',
          `/api/interactions/${interactionId}/reply`,
          { text: `Soak answer ${n}.` },
          { 'idempotency-key': key },
        );
        if (answer.status === 202) return { key, kind: 'queued', ...queued.parse(answer.body) };
        if (answer.status >= 400 && answer.status < 500 && answer.status !== 408 && answer.status !== 429) {
          const parsed = errorAnswer.safeParse(answer.body);
          return { key, kind: 'refused', reason: `${answer.status} ${parsed.success ? parsed.data.error.code : ''}` };
        }
      } catch {
        // No answer (Postern killed, restarting, or the request timed out): ask again, same key.
      }
      if (Date.now() > hardEnd) return { key, kind: 'unresolved' };
      await sleep(500 + Math.floor(Math.random() * 2500));
    }
  };

  const replyLoop = async (): Promise<void> => {
    for (let n = 1; ; n += 1) {
      const due = phaseStart + 5000 + (n * 1000) / options.repliesPerSecond;
      if (due >= faultsEnd) return;
      await sleep(due - Date.now());
      if (delivered.length > 0) replies.push(queueReply(n));
    }
  };

  const emulatorFaultLoop = async (): Promise<void> => {
    for (;;) {
      await sleep(gapRandom.between(4000, 15_000));
      if (Date.now() >= faultsEnd) return;
      await emulatorFaults.injectOne().catch((error: unknown) => log(`emulator fault not injected: ${String(error)}`));
    }
  };

  const nextHostFault = hostFaultDeck(hostKinds, hostRandom);
  const hostFaultLoop = async (): Promise<void> => {
    await sleep(Math.min(HOST_FAULT_FIRST_S * 1000, (options.seconds * 1000) / 6));
    // A host fault starts only if it can end (30 s of full disk at most) before the faults stop.
    while (Date.now() + (DISK_FULL_S + 5) * 1000 < faultsEnd) {
      const kind = nextHostFault();
      if (kind === 'disk-full') {
        const before = diskFullTraces();
        const bytes = disk.fill();
        const fault = record(
          kind,
          `data directory's file system filled (${(bytes / 1_048_576).toFixed(0)} MB) for ${DISK_FULL_S} s`,
        );
        const health = await watchHealth(DISK_FULL_S * 1000);
        disk.free();
        // Postern writes a line saying how many it dropped once it can write again.
        await sleep(TRACES_AFTER_MS);
        const after = diskFullTraces();
        fault.effect = `${health}; log lines: ${after.drops - before.drops} notices of dropped lines (ENOSPC), ${after.storeFull - before.storeFull} with STORE_DISK_FULL`;
        log(`disk space back; ${fault.effect}`);
      } else if (kind === 'database-restart' && postgres !== undefined) {
        const downMs = hostRandom.between(10_000, 30_000);
        const fault = record(kind, `PostgreSQL stopped (fast shutdown) for ${(downMs / 1000).toFixed(1)} s`);
        await postgres.stop();
        fault.effect = await watchHealth(downMs);
        await postgres.start();
        log(`PostgreSQL started again; ${fault.effect}`);
      } else {
        const downMs = hostRandom.between(500, 5000);
        const fault = record('postern-sigkill', `kill -9, started again after ${(downMs / 1000).toFixed(1)} s`);
        await postern.kill();
        await sleep(downMs);
        const restarting = Date.now();
        await postern.start();
        fault.effect = `listening again ${((Date.now() - restarting) / 1000).toFixed(1)} s after the start`;
        log(`Postern started again; ${fault.effect}`);
      }
      await sleep(hostRandom.between(15_000, 40_000));
    }
  };

  await Promise.all([deliverLoop(), replyLoop(), emulatorFaultLoop(), hostFaultLoop()]);
  const seconds = since();
  log(`faults stop: ${delivered.length} messages delivered, ${replies.length} replies asked for`);
  await emulatorFaults.stop();
  disk.free();
  await postgres?.start();
  await postern.ensureRunning();

  const drained = await drain({ store, delivered, replies, hardEnd, log });
  const verdict = await verify({
    store,
    world,
    postern,
    delivered,
    outcomes: drained.outcomes,
    drainSeconds: drained.seconds,
  });
  const result = {
    ...verdict,
    engine,
    seconds,
    faults,
    notInjected,
    crashes: postern.crashes,
    startFailures: postern.startFailures,
  };
  if (problemsOf(result).length === 0) return result;
  // The data directory goes with the phase: its logs are what tells the cause.
  const logsKeptIn = fs.mkdtempSync(path.join(os.tmpdir(), `postern-soak-logs-${engine}-${options.seed}-`));
  fs.cpSync(path.join(disk.dataDir, 'logs'), logsKeptIn, { recursive: true });
  return { ...result, logsKeptIn };
}
