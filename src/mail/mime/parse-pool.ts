/**
 * MIME parsing on worker threads. Parsing (mailparser, sanitize-html, digests) is the largest CPU
 * cost of ingest and is pure: run on a worker thread it overlaps with the IMAP fetch and the SQL
 * of the messages before it, and the event loop — hundreds of IDLE sessions, the API — is never
 * held up by a large message.
 *
 * Each message is copied to a worker (a few at a time, see POSTED_AHEAD_JOBS) and the result sent back (structured clone; attachment
 * contents that own their memory are moved, not copied, and become Buffers again without a copy). The answer is checked
 * with zod like any data crossing a boundary. When workers cannot run (no compiled worker file,
 * as under the test runner, or a worker died), the pool parses on the calling thread — the
 * result is the same, only the overlap is lost.
 *
 * @see https://nodejs.org/api/worker_threads.html
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import { parseMessage, type ParsedMessage } from './parse-message.js';

/** Parses raw messages, possibly on other threads. */
export interface ParsePool {
  /** Same contract as `parseMessage`: never rejects. */
  parse(raw: Buffer): Promise<ParsedMessage>;
  /** How many messages were parsed on worker threads and on the calling thread so far. */
  stats(): { readonly onWorkers: number; readonly inThread: number };
  /** Ends the worker threads; later calls parse on the calling thread. */
  close(): Promise<void>;
}

/** Options of {@link createParsePool}. */
export interface ParsePoolOptions {
  /** Worker threads; default one fewer than the CPUs (at least 1, at most 4). 0 parses in-thread. */
  readonly threads?: number;
  /** The worker's entry; default parse-worker next to this file (.js compiled, .ts from sources). */
  readonly workerUrl?: URL;
}

const namedAddress = z.object({ name: z.string(), address: z.string() });
const parsedSchema = z.object({
  headers: z.map(z.string(), z.array(z.string())),
  messageId: z.union([z.string(), z.undefined()]),
  inReplyTo: z.array(z.string()),
  references: z.array(z.string()),
  from: z.array(namedAddress),
  sender: z.array(namedAddress),
  replyTo: z.array(namedAddress),
  to: z.array(namedAddress),
  cc: z.array(namedAddress),
  bcc: z.array(namedAddress),
  subject: z.string(),
  date: z.date().nullable(),
  text: z.string().nullable(),
  html: z.string().nullable(),
  blockedRemoteImages: z.number(),
  attachments: z.array(
    z.object({
      filename: z.string(),
      originalFilename: z.string().nullable(),
      contentType: z.string(),
      size: z.number(),
      contentId: z.string().nullable(),
      inline: z.boolean(),
      sha256: z.string(),
      content: z
        .instanceof(Uint8Array)
        .transform((bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)),
    }),
  ),
  contentType: z.string().nullable(),
  reportType: z.string().nullable(),
  partTypes: z.array(z.string()),
  problems: z.array(z.string()),
});
const replyId = z.object({ id: z.number() });
const parsedReply = z.object({ parsed: parsedSchema });

interface Job {
  readonly raw: Buffer;
  readonly resolve: (parsed: ParsedMessage) => void;
}

/** One worker thread and the jobs it holds. */
interface Lane {
  readonly worker: Worker;
  /** Every job of the lane not answered yet: posted, or waiting to be. */
  readonly jobs: Map<number, Job>;
  /** Jobs not posted yet, in order: the worker holds a copy only of what is posted. */
  readonly waiting: number[];
  /** Posted and not answered: how many, and their bytes. */
  posted: number;
  postedBytes: number;
}

/**
 * How far ahead of its answers a worker is fed. The worker parses one message at a time; a copy
 * of every message posted to it waits in its memory until then, so posting a whole fetched batch
 * (25 MB by default) at once held up to that much twice. A short queue keeps it busy while the
 * event loop is held up by a commit (its fsync) and bounds the copies.
 */
const POSTED_AHEAD_JOBS = 16;
const POSTED_AHEAD_BYTES = 4 * 1_048_576;

/**
 * The worker's young generation, in MB. Parsing allocates fast and keeps little (a message's
 * strings live until its answer is posted), so V8's default lets the young generation grow to
 * tens of MB that are mostly garbage. Capped, the worker collects it sooner: peak RSS of the
 * 2,000-message ingest benchmark about 20 MB lower, CPU within noise (docs/PERFORMANCE.md).
 */
const WORKER_YOUNG_GENERATION_MB = 8;

/** Creates a pool; workers start on first use and never keep the process alive. */
export function createParsePool(options: ParsePoolOptions = {}): ParsePool {
  const threads = options.threads ?? Math.max(1, Math.min(4, os.availableParallelism() - 1));
  const workerUrl = options.workerUrl ?? defaultWorkerUrl();
  const lanes: Lane[] = [];
  let broken = threads === 0;
  let nextId = 0;
  let turn = 0;
  const counts = { onWorkers: 0, inThread: 0 };

  const inThread = (raw: Buffer): Promise<ParsedMessage> => {
    counts.inThread += 1;
    return parseMessage(raw);
  };

  /** A lane's worker is gone: its jobs are parsed here, and no worker is started again. */
  const retire = async (lane: Lane): Promise<void> => {
    broken = true;
    const index = lanes.indexOf(lane);
    if (index >= 0) lanes.splice(index, 1);
    for (const job of lane.jobs.values()) void inThread(job.raw).then(job.resolve);
    lane.jobs.clear();
    lane.waiting.length = 0;
    await lane.worker.terminate();
  };

  const startLane = (): Lane | undefined => {
    let worker: Worker;
    try {
      worker = new Worker(workerUrl, { resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
    } catch {
      broken = true;
      return undefined;
    }
    const lane: Lane = { worker, jobs: new Map(), waiting: [], posted: 0, postedBytes: 0 };
    worker.unref();
    worker.on('message', (message: unknown) => {
      const id = replyId.safeParse(message);
      // A worker that answers nonsense is not trusted with more.
      if (!id.success) return void retire(lane);
      const job = lane.jobs.get(id.data.id);
      lane.jobs.delete(id.data.id);
      if (lane.jobs.size === 0) worker.unref();
      if (job === undefined) return;
      lane.posted -= 1;
      lane.postedBytes -= job.raw.length;
      postWaiting(lane);
      const reply = parsedReply.safeParse(message);
      if (reply.success) {
        counts.onWorkers += 1;
        job.resolve(reply.data.parsed);
      } else {
        // The worker's own error, or a result that does not check out: parse this one here.
        void inThread(job.raw).then(job.resolve);
      }
    });
    worker.on('error', () => void retire(lane));
    worker.on('exit', () => {
      if (lanes.includes(lane)) void retire(lane);
    });
    lanes.push(lane);
    return lane;
  };

  /** Posts the lane's waiting jobs while it has room ahead (always at least one job posted). */
  const postWaiting = (lane: Lane): void => {
    for (let id = lane.waiting[0]; id !== undefined; id = lane.waiting[0]) {
      const job = lane.jobs.get(id);
      if (job === undefined) {
        lane.waiting.shift();
        continue;
      }
      const full = lane.posted >= POSTED_AHEAD_JOBS || lane.postedBytes + job.raw.length > POSTED_AHEAD_BYTES;
      if (lane.posted > 0 && full) return;
      lane.waiting.shift();
      lane.posted += 1;
      lane.postedBytes += job.raw.length;
      lane.worker.postMessage({ id, raw: job.raw });
    }
  };

  const laneFor = (): Lane | undefined => {
    if (broken) return undefined;
    if (lanes.length < threads) return startLane();
    turn = (turn + 1) % lanes.length;
    // The least busy lane; among equals, the next in turn.
    let best = lanes[turn];
    for (const lane of lanes) if (best === undefined || lane.jobs.size < best.jobs.size) best = lane;
    return best;
  };

  return {
    parse(raw) {
      const lane = laneFor();
      if (lane === undefined) return inThread(raw);
      const id = (nextId += 1);
      return new Promise<ParsedMessage>((resolve) => {
        lane.jobs.set(id, { raw, resolve });
        lane.waiting.push(id);
        // Held while a job is out, so that a caller awaiting it is not left behind at exit.
        lane.worker.ref();
        postWaiting(lane);
      });
    },
    stats: () => ({ ...counts }),
    async close() {
      broken = true;
      await Promise.all([...lanes].map((lane) => retire(lane)));
    },
  };
}

/** parse-worker.js next to this module, or parse-worker.ts when running from the sources. */
function defaultWorkerUrl(): URL {
  const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./parse-worker${extension}`, import.meta.url);
}

let shared: ParsePool | undefined;

/** The process's pool, created on first use. */
export function sharedParsePool(): ParsePool {
  shared ??= createParsePool();
  return shared;
}
