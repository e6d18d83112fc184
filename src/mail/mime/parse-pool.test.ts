import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createParsePool, type ParsePool } from './parse-pool.js';
import { parseMessage } from './parse-message.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../../test/fixtures/mail');
const HELPERS = path.resolve(import.meta.dirname, '../../../test/helpers');
const fromSource = new URL(`file://${HELPERS}/parse-worker-from-source.mjs`);
const dies = new URL(`file://${HELPERS}/parse-worker-that-dies.mjs`);
const errs = new URL(`file://${HELPERS}/parse-worker-that-errs.mjs`);

/** Fixtures with attachments, inline images, odd charsets, a missing Message-ID and garbage. */
const samples = [
  '01-plain-utf8.eml',
  '07-no-message-id.eml',
  '10-garbage-binary.eml',
  '13-tnef-winmail.eml',
  '27-cid-images.eml',
  '42-iso-2022-jp.eml',
].map((name) => fs.readFileSync(path.join(FIXTURES, name)));

describe('createParsePool', () => {
  const pools: ParsePool[] = [];
  const pool = (options: Parameters<typeof createParsePool>[0]): ParsePool => {
    const created = createParsePool(options);
    pools.push(created);
    return created;
  };
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((created) => created.close()));
  });

  it(
    'parses on a worker thread exactly as parseMessage does, attachments as Buffers',
    { timeout: 60_000 },
    async () => {
      // One thread first: the TS hooks' transpile cache is not safe for two threads filling it at once.
      const warm = pool({ threads: 1, workerUrl: fromSource });
      await warm.parse(samples[0] ?? Buffer.alloc(0));
      expect(warm.stats()).toEqual({ onWorkers: 1, inThread: 0 });
      const workers = pool({ threads: 2, workerUrl: fromSource });
      const results = await Promise.all(samples.map((raw) => workers.parse(raw)));
      for (const [index, raw] of samples.entries()) expect(results[index]).toEqual(await parseMessage(raw));
      const withAttachments = results.find((parsed) => parsed.attachments.length > 0);
      expect(withAttachments?.attachments[0]?.content).toBeInstanceOf(Buffer);
      expect(workers.stats()).toEqual({ onWorkers: samples.length, inThread: 0 });
    },
  );

  it(
    'answers a queue longer than a worker is fed at a time, each job with its own message',
    { timeout: 60_000 },
    async () => {
      const one = pool({ threads: 1, workerUrl: fromSource });
      const queue = Array.from({ length: 40 }, (_, index) => samples[index % samples.length] ?? Buffer.alloc(0));
      const results = await Promise.all(queue.map((raw) => one.parse(raw)));
      for (const [index, raw] of queue.entries()) expect(results[index]).toEqual(await parseMessage(raw));
      expect(one.stats()).toEqual({ onWorkers: 40, inThread: 0 });
    },
  );

  it('parses the jobs still waiting to be posted itself when the worker dies', async () => {
    const dying = pool({ threads: 1, workerUrl: dies });
    const queue = Array.from({ length: 30 }, (_, index) => samples[index % 3] ?? Buffer.alloc(0));
    const results = await Promise.all(queue.map((raw) => dying.parse(raw)));
    for (const [index, raw] of queue.entries()) expect(results[index]).toEqual(await parseMessage(raw));
    expect(dying.stats()).toEqual({ onWorkers: 0, inThread: 30 });
  });

  it('parses on the calling thread when no worker can start', async () => {
    const missing = pool({ threads: 1, workerUrl: new URL('file:///nonexistent/parse-worker.js') });
    for (const raw of samples.slice(0, 3)) expect(await missing.parse(raw)).toEqual(await parseMessage(raw));
    expect(missing.stats()).toEqual({ onWorkers: 0, inThread: 3 });
  });

  it('parses a job itself when its worker dies, and keeps answering', async () => {
    const dying = pool({ threads: 1, workerUrl: dies });
    const [first, second] = await Promise.all([
      dying.parse(samples[0] ?? Buffer.alloc(0)),
      dying.parse(samples[1] ?? Buffer.alloc(0)),
    ]);
    expect(first).toEqual(await parseMessage(samples[0] ?? Buffer.alloc(0)));
    expect(second).toEqual(await parseMessage(samples[1] ?? Buffer.alloc(0)));
    expect(await dying.parse(samples[2] ?? Buffer.alloc(0))).toEqual(await parseMessage(samples[2] ?? Buffer.alloc(0)));
    expect(dying.stats()).toEqual({ onWorkers: 0, inThread: 3 });
  });

  it('parses a job itself when its worker fails it or answers what does not check out, and stops trusting a worker that answers nonsense', async () => {
    const failing = pool({ threads: 1, workerUrl: errs });
    const [one, two, three] = samples;
    if (one === undefined || two === undefined || three === undefined) throw new Error('samples missing');
    expect(await failing.parse(one)).toEqual(await parseMessage(one));
    expect(await failing.parse(two)).toEqual(await parseMessage(two));
    expect(failing.stats()).toEqual({ onWorkers: 0, inThread: 2 });
    expect(await failing.parse(three)).toEqual(await parseMessage(three));
    expect(await failing.parse(one)).toEqual(await parseMessage(one));
    expect(failing.stats()).toEqual({ onWorkers: 0, inThread: 4 });
  });

  it('parses on the calling thread with no threads, and after close', async () => {
    expect(await pool({ threads: 0 }).parse(samples[0] ?? Buffer.alloc(0))).toEqual(
      await parseMessage(samples[0] ?? Buffer.alloc(0)),
    );
    const closed = pool({ threads: 1, workerUrl: fromSource });
    await closed.close();
    expect(await closed.parse(samples[4] ?? Buffer.alloc(0))).toEqual(
      await parseMessage(samples[4] ?? Buffer.alloc(0)),
    );
  });
});
