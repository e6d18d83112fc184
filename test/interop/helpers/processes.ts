/**
 * Child processes of the interop suite (Dovecot, Postfix): started in the foreground, their output
 * kept for the failure message, and stopped by process group so that nothing is left running —
 * also when a test fails or the suite is interrupted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

/** A daemon started by a test, with what it printed so far. */
export interface Daemon {
  readonly name: string;
  readonly child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

const running = new Set<Daemon>();

/** Kills every daemon still running (process exit, a crashed suite). */
function killAll(): void {
  for (const daemon of running) killGroup(daemon.child, 'SIGKILL');
}
process.once('exit', killAll);

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** Starts `command` in its own process group, in the foreground. */
export function startDaemon(name: string, command: string, args: string[], env: Record<string, string> = {}): Daemon {
  const child = spawn(command, args, {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let text = '';
  const keep = (chunk: Buffer): void => {
    text = (text + chunk.toString('utf8')).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const daemon: Daemon = {
    name,
    child,
    output: () => text,
    async stop() {
      running.delete(daemon);
      if (child.exitCode !== null || child.signalCode !== null) return;
      killGroup(child, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
  running.add(daemon);
  return daemon;
}

/** A free loopback port (the kernel's choice, released at once for the daemon to take). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject()));
    });
  });
}

/** Waits until something accepts TCP connections on the port, or the daemon exits. */
export async function waitForPort(daemon: Daemon, port: number, logFile?: string, timeoutMs = 30_000): Promise<void> {
  const started = Date.now();
  for (;;) {
    if (daemon.child.exitCode !== null || daemon.child.signalCode !== null)
      throw new Error(`${daemon.name} exited: ${daemon.output()}${logFile === undefined ? '' : readTail(logFile)}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() - started > timeoutMs)
      throw new Error(
        `${daemon.name} did not listen on ${port}: ${daemon.output()}${logFile === undefined ? '' : readTail(logFile)}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The end of a log file, for failure messages. */
export function readTail(file: string): string {
  try {
    return `\n--- ${file} ---\n${fs.readFileSync(file, 'utf8').slice(-8_000)}`;
  } catch {
    return '';
  }
}
