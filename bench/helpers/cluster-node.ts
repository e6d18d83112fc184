/**
 * One `postern start` process of the cluster benchmark, run from dist/ as an operator runs it:
 * its own data directory (logs), the shared database and secret key from the environment, both
 * roles (web and worker) on a free loopback port. Its memory is read from the outside
 * (`/proc/<pid>/status`) and from its own Prometheus scrape.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { serverProcessId } from '../../test/helpers/cli.js';

/** The built CLI: the benchmark's npm script runs `npm run build` first. */
export const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');

const OUTPUT_TAIL_CHARS = 20_000;

const nodesReply = z.object({
  items: z.array(
    z.object({
      id: z.string(),
      state: z.enum(['running', 'silent', 'stopped']),
      mailboxesHeld: z.number(),
      self: z.boolean(),
    }),
  ),
});

/** A node as `GET /api/system/nodes` shows it. */
export type NodeListing = z.infer<typeof nodesReply>['items'][number];

/** A node's memory: RSS from the kernel, RSS and JS heap from its own metrics. */
export interface NodeMemory {
  readonly procRss: number;
  readonly metricsRss: number;
  readonly heapUsed: number;
}

/** A JSON API call with the administrator's bearer token; throws on an answer other than 2xx. */
export async function callApi(
  base: string,
  bearer: string,
  method: string,
  route: string,
  body?: object,
): Promise<unknown> {
  const response = await fetch(`${base}${route}`, {
    method,
    headers: { authorization: bearer, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${route} → ${response.status} ${text}`);
  return text === '' ? undefined : JSON.parse(text);
}

/** Options of {@link ClusterNode.start}. */
export interface StartOptions {
  /** A data directory of the caller's (kept when the node is removed). */
  readonly dataDir?: string;
}

/** A running `postern start`. */
export class ClusterNode {
  private output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  private id: string | undefined;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    readonly dataDir: string,
    readonly url: string,
    /** Whether the data directory is the node's own (removed with it). */
    private readonly ownDataDir: boolean,
  ) {
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal, at: performance.timeOrigin + performance.now() })),
    );
  }

  /**
   * Starts a node with `env` (plus its own data directory, or `options.dataDir`, which is then the
   * caller's to keep: a node started again after `kill -9` reuses it); resolves once it listens.
   */
  static async start(name: string, env: Record<string, string>, options: StartOptions = {}): Promise<ClusterNode> {
    const own = options.dataDir === undefined;
    const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), `postern-bench-${name}-`));
    const child = spawn(process.execPath, [CLI, 'start', '--port', '0'], {
      env: { ...env, POSTERN_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name} did not listen within 120 s:\n${output}`)), 120_000);
        const look = (): void => {
          const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
          if (match?.[1] === undefined) return;
          clearTimeout(timer);
          resolve(match[1]);
        };
        child.stdout?.on('data', look);
        child.once('exit', (code, signal) => {
          clearTimeout(timer);
          reject(new Error(`${name} exited with ${code ?? signal}:\n${output}`));
        });
      });
      const node = new ClusterNode(name, child, dataDir, url, own);
      node.output = output;
      child.stdout?.on('data', (chunk: Buffer) => node.keep(chunk));
      child.stderr?.on('data', (chunk: Buffer) => node.keep(chunk));
      return node;
    } catch (error) {
      child.kill('SIGKILL');
      if (own) fs.rmSync(dataDir, { recursive: true, force: true });
      throw error;
    }
  }

  /** The server's process: the child `postern start` runs under its heap limit (src/cli/heap-limit.ts). */
  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.name} has no process id`);
    return serverProcessId(this.child.pid);
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** What the process printed last (for a failure's message). */
  tail(): string {
    return this.output;
  }

  /** Sends `signal` to the process. */
  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** The nodes on the database, as this node lists them. */
  async nodes(bearer: string): Promise<NodeListing[]> {
    return nodesReply.parse(await callApi(this.url, bearer, 'GET', '/api/system/nodes')).items;
  }

  /** This node's id (the nodes' list marks it `self`). */
  async nodeId(bearer: string): Promise<string> {
    if (this.id !== undefined) return this.id;
    const self = (await this.nodes(bearer)).find((node) => node.self);
    if (self === undefined) throw new Error(`${this.name} is not among the nodes`);
    this.id = self.id;
    return self.id;
  }

  /** RSS from `/proc/<pid>/status`; `process_resident_memory_bytes` and `nodejs_heap_size_used_bytes` from `/metrics`. */
  async memory(bearer: string): Promise<NodeMemory> {
    const status = fs.readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const vmRss = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
    if (vmRss === undefined) throw new Error(`no VmRSS for ${this.name}`);
    const response = await fetch(`${this.url}/metrics`, {
      headers: { authorization: bearer },
      signal: AbortSignal.timeout(60_000),
    });
    if (!response.ok) throw new Error(`GET /metrics of ${this.name} → ${response.status}`);
    const text = await response.text();
    return {
      procRss: Number(vmRss) * 1024,
      metricsRss: metricOf(text, 'process_resident_memory_bytes'),
      heapUsed: metricOf(text, 'nodejs_heap_size_used_bytes'),
    };
  }

  /** How many lines of the node's log files contain `text`. */
  countLogLines(text: string): number {
    return this.logLines(text).length;
  }

  /** The node's log records whose message is `msg`, logged at `since` (ms since the epoch) or later. */
  logRecords(msg: string, since: number): Array<Record<string, unknown> & { readonly at: number }> {
    const records: Array<Record<string, unknown> & { readonly at: number }> = [];
    for (const line of this.logLines(msg)) {
      const record = JSON.parse(line) as Record<string, unknown>;
      const at = Date.parse(String(record.time));
      if (record.msg === msg && at >= since) records.push({ ...record, at });
    }
    return records.sort((a, b) => a.at - b.at);
  }

  /** The lines of the node's log files that contain `text`. */
  private logLines(text: string): string[] {
    const logs = path.join(this.dataDir, 'logs');
    if (!fs.existsSync(logs)) return [];
    return fs
      .readdirSync(logs)
      .flatMap((file) => fs.readFileSync(path.join(logs, file), 'utf8').split('\n'))
      .filter((line) => line.includes(text));
  }

  /** Kills the process at once and removes its data directory without waiting (an interrupted run). */
  removeNow(): void {
    if (this.alive) this.child.kill('SIGKILL');
    if (this.ownDataDir) fs.rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** Kills the process if it still runs and removes its data directory. */
  async remove(): Promise<void> {
    if (this.alive) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
    if (this.ownDataDir) fs.rmSync(this.dataDir, { recursive: true, force: true });
  }

  private keep(chunk: Buffer): void {
    this.output = (this.output + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
  }
}

/** The value of an unlabelled-or-labelled sample `name` in a Prometheus text exposition. */
export function metricOf(text: string, name: string): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (!rest.startsWith(' ') && !rest.startsWith('{')) continue;
    const value = Number(rest.slice(rest.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) return value;
  }
  throw new Error(`no ${name} in the scrape`);
}
