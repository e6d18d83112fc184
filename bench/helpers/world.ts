/**
 * The benchmark's handle on its world process (`world-process.ts`): forks it, waits until the
 * emulator listens, and turns IPC into promises.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorldReply, WorldRequest, WorldSpec } from './world-protocol.js';

/** What the world process reports when it is ready. */
export type WorldReady = Extract<WorldReply, { type: 'ready' }>;
/** A submission's times. */
export type WorldSent = Extract<WorldReply, { type: 'sent' }>;
/** The world process's memory, CPU and IMAP connections. */
export type WorldStats = Extract<WorldReply, { type: 'stats' }>;

/** The running world process. */
export class World {
  private readonly waiting: Array<(reply: WorldReply) => void> = [];
  private readonly sends = new Map<number, { resolve: (sent: WorldSent) => void; reject: (error: Error) => void }>();

  private constructor(
    private readonly child: ChildProcess,
    readonly ready: WorldReady,
  ) {}

  /** Forks the world process with the generated tenant `spec`; resolves once it listens. */
  static async start(spec: WorldSpec): Promise<World> {
    const entry = path.join(path.dirname(fileURLToPath(import.meta.url)), 'world-process.js');
    const child = fork(entry, [], {
      env: { ...process.env, WORLD_SPEC: JSON.stringify(spec) },
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const first = await new Promise<WorldReply>((resolve, reject) => {
      child.once('message', (reply: WorldReply) => resolve(reply));
      child.once('exit', (code) => reject(new Error(`the world process exited with ${code ?? 'a signal'}`)));
    });
    if (first.type !== 'ready') throw new Error('the world process did not start');
    const world = new World(child, first);
    child.on('message', (reply: WorldReply) => world.receive(reply));
    return world;
  }

  /** Sends a request and resolves with the next reply that is not a submission report. */
  ask(request: Exclude<WorldRequest, { type: 'send' }>): Promise<WorldReply> {
    const reply = new Promise<WorldReply>((resolve) => this.waiting.push(resolve));
    this.child.send(request);
    return reply;
  }

  /** The world process's figures (after a garbage collection there). */
  async stats(): Promise<WorldStats> {
    const reply = await this.ask({ type: 'stats' });
    if (reply.type !== 'stats') throw new Error(`unexpected reply ${reply.type}`);
    return reply;
  }

  /** Has `sender` submit one message to `to` over SMTP; resolves with its times. */
  submit(id: number, sender: number, to: string, messageId: string): Promise<WorldSent> {
    const done = new Promise<WorldSent>((resolve, reject) => this.sends.set(id, { resolve, reject }));
    this.child.send({ type: 'send', id, sender, to, messageId } satisfies WorldRequest);
    return done;
  }

  /** Stops the emulator and waits for the process to end. */
  async stop(): Promise<void> {
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.send({ type: 'stop' } satisfies WorldRequest);
    await exited;
  }

  private receive(reply: WorldReply): void {
    if (reply.type === 'sent' || reply.type === 'send-failed') {
      const waiter = this.sends.get(reply.id);
      this.sends.delete(reply.id);
      if (reply.type === 'sent') waiter?.resolve(reply);
      else waiter?.reject(new Error(`submission ${reply.id} failed: ${reply.error}`));
      return;
    }
    this.waiting.shift()?.(reply);
  }
}
