/**
 * Postern under the fault soak: the built `postern start` in a process of its own (both roles, a
 * free loopback port, its data directory on the soak's small disk), so that `kill -9` is real.
 * The soak kills it on purpose and starts it again on the same data; an exit nobody asked for is
 * a crash, recorded with what the process printed last, and the process is started again so that
 * the run can still say what was lost.
 */
import { spawnSync } from 'node:child_process';
import { CLI, ClusterNode } from './cluster-node.js';
import { sleep } from './figures.js';

const START_ATTEMPT_PAUSE_MS = 2000;
const REQUEST_TIMEOUT_MS = 15_000;
const TAIL_CHARS = 2000;

/** An exit of Postern that the soak did not cause. */
export interface Crash {
  /** Seconds since the phase began. */
  readonly at: number;
  readonly exit: string;
  readonly tail: string;
}

/** An API answer. */
export interface ApiAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** Runs one CLI command against Postern's data and database; returns its standard output. */
export function runPosternCli(args: string[], env: Record<string, string>, input?: string): string {
  const result = spawnSync(process.execPath, [CLI, ...args], { env, input, encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) throw new Error(`postern ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

/** The one Postern process of a soak phase. */
export class PosternUnderSoak {
  private node: ClusterNode | undefined;
  private serial = 0;
  /** Set while the soak itself stops the process. */
  private stopping = false;
  private restarting: Promise<void> | undefined;
  readonly crashes: Crash[] = [];
  /** Attempts to start that ended before the server listened (e.g. on a full disk). */
  startFailures = 0;
  bearer = '';

  constructor(
    private readonly env: Record<string, string>,
    private readonly dataDir: string,
    private readonly secondsSinceStart: () => number,
  ) {}

  get alive(): boolean {
    return this.node?.alive === true;
  }

  /** Starts the process, trying again every 2 s until it listens or `timeoutMs` has passed. */
  async start(timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        this.serial += 1;
        const node = await ClusterNode.start(`postern${this.serial}`, this.env, { dataDir: this.dataDir });
        this.node = node;
        void node.exited.then((exit) => this.onExit(node, exit.code, exit.signal));
        return;
      } catch (error) {
        this.startFailures += 1;
        if (Date.now() > deadline) throw error;
        await sleep(START_ATTEMPT_PAUSE_MS);
      }
    }
  }

  /** `kill -9`; resolves once the process is gone. */
  async kill(): Promise<void> {
    const node = this.node;
    if (node === undefined || !node.alive) return;
    this.stopping = true;
    try {
      node.kill('SIGKILL');
      await node.exited;
    } finally {
      this.stopping = false;
    }
  }

  /** Waits for a restart after a crash, if one is under way; starts the process if it is down. */
  async ensureRunning(): Promise<void> {
    await this.restarting;
    if (!this.alive) await this.start();
  }

  /** How many lines of the log files (shared by every process of the phase) contain `text`. */
  countLogLines(text: string): number {
    return this.node?.countLogLines(text) ?? 0;
  }

  /** Stops the process for good. */
  async remove(): Promise<void> {
    this.stopping = true;
    await this.restarting?.catch(() => undefined);
    await this.node?.remove();
  }

  /**
   * An API call with the administrator's token. Resolves with any HTTP answer; rejects when
   * Postern is down, the connection fails or no answer comes within 15 s.
   */
  async api(method: string, route: string, body?: object, headers: Record<string, string> = {}): Promise<ApiAnswer> {
    const node = this.node;
    if (node === undefined || !node.alive) throw new Error('Postern is not running');
    const response = await fetch(`${node.url}${route}`, {
      method,
      headers: {
        authorization: this.bearer,
        ...headers,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      // Not JSON: kept as text.
    }
    return { status: response.status, body: parsed };
  }

  /** An API call that must succeed (2xx); returns the body. */
  async call(method: string, route: string, body?: object): Promise<unknown> {
    const answer = await this.api(method, route, body);
    if (answer.status < 200 || answer.status > 299)
      throw new Error(`${method} ${route} → ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body;
  }

  private onExit(node: ClusterNode, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.stopping || node !== this.node) return;
    this.crashes.push({
      at: this.secondsSinceStart(),
      exit: signal ?? `code ${code ?? '?'}`,
      tail: node.tail().slice(-TAIL_CHARS),
    });
    process.stdout.write(`  !! Postern exited by itself (${signal ?? `code ${code ?? '?'}`}); starting it again\n`);
    this.restarting = this.start().catch((error: unknown) => {
      process.stderr.write(`  !! Postern could not be started again: ${String(error)}\n`);
    });
  }
}
