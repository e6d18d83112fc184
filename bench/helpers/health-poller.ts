/**
 * Asks a Postern's `/health` every `intervalMs` from a separate process — so that nothing in the
 * caller's process (an emulator serving a 5 MB fetch, say) delays the asking — and reports every
 * answer's time. The first request of the new process (loading its HTTP client) is not counted.
 */
import { spawn } from 'node:child_process';
import { z } from 'zod';

const POLLER = `
  const { performance } = require('node:perf_hooks');
  const [target, interval] = process.argv.slice(1);
  let stopping = false;
  const times = [];
  process.stdin.on('data', () => { stopping = true; });
  (async () => {
    await (await fetch(target)).text();
    process.stdout.write('ready\\n');
    while (!stopping) {
      const started = performance.now();
      const response = await fetch(target);
      await response.text();
      if (response.status !== 200) throw new Error('health answered ' + response.status);
      times.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, Number(interval)));
    }
    process.stdout.write(JSON.stringify({ times }));
    process.exit(0);
  })();`;

const answers = z.object({ times: z.array(z.number()) });

/** A running poller. */
export interface HealthPoller {
  /** Stops asking; resolves with each answer's time in milliseconds, in order. */
  stop(): Promise<number[]>;
}

/** Starts polling `${base}/health`; resolves once the first (uncounted) answer came. */
export async function pollHealth(base: string, intervalMs = 20): Promise<HealthPoller> {
  const child = spawn(process.execPath, ['-e', POLLER, `${base}/health`, String(intervalMs)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.startsWith('ready\n')) resolve();
    });
    void exited.then((code) => reject(new Error(`the /health poller exited with ${code ?? 'a signal'}: ${out}`)));
  });
  return {
    async stop() {
      child.stdin.end('stop\n');
      const code = await exited;
      if (code !== 0) throw new Error(`the /health poller failed (exit ${code ?? 'signal'})`);
      return answers.parse(JSON.parse(out.slice('ready\n'.length))).times;
    },
  };
}
