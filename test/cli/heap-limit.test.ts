/**
 * Issue 16, point 6: `postern start` runs with a deliberate V8 heap limit. The built CLI is
 * started as an operator starts it, and the limit is read from the running server itself: its
 * command line (`/proc/<pid>/cmdline`) and its own Prometheus gauge (`postern_heap_limit_bytes`,
 * V8's heap_size_limit). An explicit POSTERN_MAX_HEAP_MB wins over NODE_OPTIONS; auto honours
 * NODE_OPTIONS; an invalid value is refused with CONFIG_INVALID; a keeper killed with SIGKILL
 * takes the server with it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { availableMemoryBytes, defaultHeapMb } from '../../src/cli/heap-limit.js';
import { runCli, serverProcessId, spawnCli, type RunningCli } from '../helpers/cli.js';
import { findFreePort } from '../helpers/embedded-postgres.js';
import { until } from '../helpers/until.js';

const MB = 1024 * 1024;
const running: RunningCli[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const cli of running.splice(0)) {
    if (cli.child.exitCode !== null || cli.child.signalCode !== null) continue;
    cli.child.kill('SIGTERM');
    await cli.exited;
  }
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function freshDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-heap-'));
  dirs.push(dir);
  return dir;
}

interface Started {
  readonly cli: RunningCli;
  /** The megabytes the start line names. */
  readonly printedMb: number;
  /** The server's own heap_size_limit, scraped from its metrics listener. */
  readonly heapSizeLimit: number;
  /** The `--max-old-space-size` on the server process's command line, if any. */
  readonly flagMb: number | undefined;
  readonly serverPid: number;
}

async function startWith(env: Record<string, string>): Promise<Started> {
  const metricsPort = await findFreePort();
  const cli = spawnCli(['start', '--port', '0', '--roles', 'web'], {
    POSTERN_DATA_DIR: freshDir(),
    POSTERN_METRICS_LISTEN: `127.0.0.1:${metricsPort}`,
    ...env,
  });
  running.push(cli);
  const [, printed = ''] = await cli.waitFor(/Heap limit: (\d+) MB/, 60_000);
  const scrape = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  expect(scrape.status).toBe(200);
  const line = (await scrape.text()).split('\n').find((text) => text.startsWith('postern_heap_limit_bytes'));
  const serverPid = serverProcessId(cli.child.pid ?? 0);
  const args = fs.readFileSync(`/proc/${serverPid}/cmdline`, 'utf8').split('\0');
  const flag = args.find((arg) => arg.startsWith('--max-old-space-size='));
  return {
    cli,
    printedMb: Number(printed),
    heapSizeLimit: Number(line?.split(' ').at(-1)),
    flagMb: flag === undefined ? undefined : Number(flag.slice('--max-old-space-size='.length)),
    serverPid,
  };
}

/** V8's heap_size_limit is the old generation's limit plus the young generation's (tens of MB). */
function expectHeapLimitOf(started: Started, mb: number): void {
  expect(started.printedMb).toBe(mb);
  expect(started.heapSizeLimit).toBeGreaterThanOrEqual(mb * MB);
  expect(started.heapSizeLimit).toBeLessThan((mb + 128) * MB);
}

describe('postern start sets its heap limit', () => {
  it('by default, a quarter of the memory from 256 to 1024 MB, in a child it keeps', async () => {
    const started = await startWith({});
    const expected = defaultHeapMb(availableMemoryBytes());
    expectHeapLimitOf(started, expected);
    expect(started.flagMb).toBe(expected);
    expect(started.serverPid).not.toBe(started.cli.child.pid);
    expect(started.cli.output()).toContain('(auto: a quarter of');
  }, 90_000);

  it('to POSTERN_MAX_HEAP_MB, which wins over NODE_OPTIONS', async () => {
    const started = await startWith({ POSTERN_MAX_HEAP_MB: '300', NODE_OPTIONS: '--max-old-space-size=500' });
    expectHeapLimitOf(started, 300);
    expect(started.flagMb).toBe(300);
    expect(started.cli.output()).toContain('(POSTERN_MAX_HEAP_MB)');
  }, 90_000);

  it("to the operator's NODE_OPTIONS under auto, in the same process", async () => {
    const started = await startWith({ NODE_OPTIONS: '--max-old-space-size=400' });
    expectHeapLimitOf(started, 400);
    expect(started.serverPid).toBe(started.cli.child.pid);
    expect(started.cli.output()).toContain('(NODE_OPTIONS)');
  }, 90_000);

  it('and a keeper killed with SIGKILL takes the server with it', async () => {
    const started = await startWith({ POSTERN_MAX_HEAP_MB: '256' });
    expect(started.serverPid).not.toBe(started.cli.child.pid);
    started.cli.child.kill('SIGKILL');
    await started.cli.exited;
    // Gone, or a zombie waiting for init to reap it.
    await until('the server process ended', () => {
      try {
        return fs.readFileSync(`/proc/${started.serverPid}/stat`, 'utf8').split(' ')[2] === 'Z' ? true : undefined;
      } catch {
        return true;
      }
    });
  }, 90_000);

  it('refuses an invalid POSTERN_MAX_HEAP_MB with CONFIG_INVALID naming it', () => {
    for (const value of ['lots', '64', '1.5']) {
      const result = runCli(['start', '--port', '0'], { POSTERN_DATA_DIR: freshDir(), POSTERN_MAX_HEAP_MB: value });
      expect(result.status).toBe(78);
      expect(result.stderr).toContain('Error CONFIG_INVALID');
      expect(result.stderr).toContain(
        `POSTERN_MAX_HEAP_MB: expected auto, or a whole number of megabytes from 128 to 65536, got "${value}"`,
      );
    }
  });
});
