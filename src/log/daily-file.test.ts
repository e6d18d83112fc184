import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DailyFile } from './daily-file.js';
import { createLogger } from './logger.js';

const DAY = new Date('2026-12-02T10:00:00Z');
const dirs: string[] = [];

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-daily-file-'));
  dirs.push(dir);
  return dir;
}

/** Makes today's file of `prefix` a link to /dev/full, where every write fails with ENOSPC. */
function fillDisk(dir: string, prefix: string): string {
  const file = path.join(dir, `${prefix}.2026-12-02.log`);
  fs.symlinkSync('/dev/full', file);
  return file;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('DailyFile on a full disk', () => {
  it('drops and counts the lines it cannot write, never throws, and says so once space is back', () => {
    const dir = tempDir();
    const full = fillDisk(dir, 'email-combined');
    const file = new DailyFile(dir, 'email-combined', () => DAY);
    for (let i = 0; i < 3; i += 1) expect(() => file.writeLine(`{"msg":"lost ${i}"}\n`)).not.toThrow();
    expect(file.dropped).toBe(3);

    fs.unlinkSync(full); // space is back: the next line opens a real file
    file.writeLine('{"msg":"after"}\n');
    const lines = fs.readFileSync(full, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ level: 40, dropped: 3, reason: 'ENOSPC', component: 'log' });
    expect(JSON.parse(lines[1] ?? '')).toEqual({ msg: 'after' });
    file.writeLine('{"msg":"next"}\n');
    expect(fs.readFileSync(full, 'utf8').trim().split('\n')).toHaveLength(3);
    expect(file.dropped).toBe(3);
  });

  it('keeps a logger usable when its files cannot be written: nothing thrown, the drops counted', () => {
    const dir = tempDir();
    fillDisk(dir, 'email-combined');
    fillDisk(dir, 'email-error');
    const bundle = createLogger({ level: 'info', dir, console: false, clock: () => DAY });
    expect(() => {
      bundle.logger.info({ accountId: 1 }, 'stored a message');
      bundle.logger.error({ accountId: 1 }, 'something failed');
    }).not.toThrow();
    expect(bundle.dropped()).toBe(3); // two lines in the combined file, one in the error file
    bundle.close();
  });
});
