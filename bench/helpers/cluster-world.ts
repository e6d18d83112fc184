/**
 * The cluster benchmark's world (`cluster-world-process.ts`, forked): the Microsoft 365 emulator
 * with the generated tenant of `world-protocol.ts` (N shared mailboxes, the delegate `agent@` with
 * FullAccess), mail in memory, and a sampler that reads every mailbox's IMAP session count every
 * `sampleMs` in the emulator's own process — 3,000 mailboxes cannot be asked one by one over the
 * control API ten times a second. A watch follows a set of mailboxes from the moment it is set:
 * when each was first seen without a session, and when first seen with one again after that.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The shape of the world. */
export interface ClusterWorldSpec {
  readonly mailboxes: number;
  /** Every how often the sessions are sampled (ms). */
  readonly sampleMs: number;
}

/** The emulator's endpoints and CA. */
export interface ClusterWorldReady {
  readonly type: 'ready';
  readonly caFile: string;
  readonly authority: string;
  readonly imapPort: number;
}

/** Sessions per mailbox at the last sample, and the emulator process's memory. */
export interface ClusterWorldSessions {
  readonly type: 'sessions';
  /** Open IMAP connections, signed in or not. */
  readonly connections: number;
  readonly withNone: number;
  readonly withOne: number;
  readonly withMore: number;
  /** The most sessions any mailbox had at any sample since the start. */
  readonly mostEver: number;
  readonly rss: number;
  readonly heapUsed: number;
}

/** One watched mailbox: first sample without a session, first sample with one after it (ms since the epoch). */
export type WatchedMailbox = readonly [mailbox: string, droppedAt: number | null, backAt: number | null];

/** A watch's progress. */
export interface ClusterWorldWatch {
  readonly type: 'watch';
  readonly since: number;
  readonly mailboxes: readonly WatchedMailbox[];
  /** The longest interval between two samples since the watch began (the sampler's resolution). */
  readonly longestGapMs: number;
}

/** A request to the world process. */
export type ClusterWorldRequest =
  | { readonly type: 'sessions' }
  | { readonly type: 'watch'; readonly mailboxes: readonly string[] }
  | { readonly type: 'watch-report' }
  | { readonly type: 'stop' };

/** A reply of the world process. */
export type ClusterWorldReply = ClusterWorldReady | ClusterWorldSessions | ClusterWorldWatch;

/** The running world process. */
export class ClusterWorld {
  private readonly waiting: Array<(reply: ClusterWorldReply) => void> = [];

  private constructor(
    private readonly child: ChildProcess,
    readonly ready: ClusterWorldReady,
  ) {}

  /** Forks the world with `spec`; resolves once the emulator listens. */
  static async start(spec: ClusterWorldSpec): Promise<ClusterWorld> {
    const entry = path.join(path.dirname(fileURLToPath(import.meta.url)), 'cluster-world-process.js');
    const child = fork(entry, [], {
      env: { ...process.env, CLUSTER_WORLD_SPEC: JSON.stringify(spec) },
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const first = await new Promise<ClusterWorldReply>((resolve, reject) => {
      child.once('message', (reply: ClusterWorldReply) => resolve(reply));
      child.once('exit', (code) => reject(new Error(`the world process exited with ${code ?? 'a signal'}`)));
    });
    if (first.type !== 'ready') throw new Error('the world process did not start');
    const world = new ClusterWorld(child, first);
    child.on('message', (reply: ClusterWorldReply) => world.waiting.shift()?.(reply));
    return world;
  }

  /** The process id, to kill it when the benchmark is interrupted. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  async sessions(): Promise<ClusterWorldSessions> {
    const reply = await this.ask({ type: 'sessions' });
    if (reply.type !== 'sessions') throw new Error(`unexpected reply ${reply.type}`);
    return reply;
  }

  /** Starts following `mailboxes` (a new watch replaces the last); resolves with its first report. */
  async watch(mailboxes: readonly string[]): Promise<ClusterWorldWatch> {
    const reply = await this.ask({ type: 'watch', mailboxes });
    if (reply.type !== 'watch') throw new Error(`unexpected reply ${reply.type}`);
    return reply;
  }

  async watchReport(): Promise<ClusterWorldWatch> {
    const reply = await this.ask({ type: 'watch-report' });
    if (reply.type !== 'watch') throw new Error(`unexpected reply ${reply.type}`);
    return reply;
  }

  /** Stops the emulator and waits for the process to end. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.send({ type: 'stop' } satisfies ClusterWorldRequest);
    await exited;
  }

  private ask(request: ClusterWorldRequest): Promise<ClusterWorldReply> {
    const reply = new Promise<ClusterWorldReply>((resolve) => this.waiting.push(resolve));
    this.child.send(request);
    return reply;
  }
}
