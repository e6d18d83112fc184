import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import {
  formatLogEntry,
  listDayFiles,
  LogFollower,
  matchesLogFilter,
  parseLogLine,
  parseSince,
  readLogEntries,
} from './log-reader.js';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'postern-log-reader-'));
}

describe('reading the day files', () => {
  it('lists the files of a kind by day, from a date', () => {
    const dir = tempDir();
    for (const name of [
      'email-combined.2026-01-02.log',
      'email-combined.2026-01-01.log',
      'email-error.2026-01-02.log',
      'other.log',
    ])
      fs.writeFileSync(path.join(dir, name), '');
    expect(listDayFiles(dir, 'combined').map((f) => f.day)).toEqual(['2026-01-01', '2026-01-02']);
    expect(listDayFiles(dir, 'error').map((f) => f.day)).toEqual(['2026-01-02']);
    expect(listDayFiles(dir, 'combined', new Date('2026-01-02T10:00:00Z')).map((f) => f.day)).toEqual(['2026-01-02']);
    expect(listDayFiles(path.join(dir, 'missing'), 'combined')).toEqual([]);
  });

  it('keeps the lines about an account by key or id, at a level, since a time', () => {
    const dir = tempDir();
    let now = new Date('2026-01-01T10:00:00Z');
    const { logger, close } = createLogger({ level: 'debug', dir, clock: () => now });
    logger.child({ component: 'mailbox', accountId: 3, key: 'DEV' }).info('IMAP session open');
    logger.info({ accountId: 3 }, 'message sent');
    logger.child({ component: 'mailbox', accountId: 4, key: 'SALES' }).warn('throttled');
    now = new Date('2026-01-02T08:00:00Z');
    logger.child({ accountId: 3, key: 'DEV' }).error('connection lost');
    close();
    const files = listDayFiles(dir, 'combined');
    const messages = (filter: Parameters<typeof readLogEntries>[1]) =>
      [...readLogEntries(files, filter)].map((e) => e.msg);
    expect(messages({ account: { key: 'dev' } })).toEqual(['IMAP session open', 'connection lost']);
    expect(messages({ account: { key: 'DEV', id: 3 } })).toEqual([
      'IMAP session open',
      'message sent',
      'connection lost',
    ]);
    expect(messages({ minLevel: 40 })).toEqual(['throttled', 'connection lost']);
    expect(messages({ since: new Date('2026-01-02T00:00:00Z') })).toEqual(['connection lost']);
  });

  it('formats a line for a terminal and keeps lines that are not JSON as they are', () => {
    const entry = parseLogLine(
      '{"level":40,"time":"2026-01-01T10:00:00.000Z","pid":1,"component":"mailbox","accountId":3,"key":"DEV","folder":"INBOX","msg":"throttled"}',
    );
    expect(formatLogEntry(entry)).toBe('2026-01-01T10:00:00.000Z WARN  mailbox [DEV#3] throttled  folder=INBOX');
    expect(formatLogEntry(entry, { color: true })).toContain('\u001b[33mWARN ');
    const raw = parseLogLine('not json');
    expect(formatLogEntry(raw)).toBe('not json');
    expect(matchesLogFilter(raw, {})).toBe(true);
    expect(matchesLogFilter(raw, { minLevel: 30 })).toBe(false);
  });

  it('reads --since as a date or a duration back from now', () => {
    const now = new Date('2026-01-10T12:00:00Z');
    expect(parseSince('2h', now)?.toISOString()).toBe('2026-01-10T10:00:00.000Z');
    expect(parseSince('7d', now)?.toISOString()).toBe('2026-01-03T12:00:00.000Z');
    expect(parseSince('2026-01-09', now)?.toISOString()).toBe('2026-01-09T00:00:00.000Z');
    expect(parseSince('2026-01-09T08:30:00+02:00', now)?.toISOString()).toBe('2026-01-09T06:30:00.000Z');
    expect(parseSince('yesterday', now)).toBeUndefined();
  });
});

describe('LogFollower', () => {
  it('emits appended complete lines and moves to the next day at midnight', () => {
    const dir = tempDir();
    let now = new Date('2026-01-01T23:59:00Z');
    const today = path.join(dir, 'email-combined.2026-01-01.log');
    fs.writeFileSync(today, 'old\n');
    const lines: string[] = [];
    const follower = new LogFollower(
      dir,
      'combined',
      (line) => lines.push(line),
      () => now,
    );
    follower.start(60_000);
    fs.appendFileSync(today, 'one\ntw');
    follower.poll();
    expect(lines).toEqual(['one']);
    fs.appendFileSync(today, 'o\n');
    now = new Date('2026-01-02T00:00:01Z');
    fs.writeFileSync(path.join(dir, 'email-combined.2026-01-02.log'), 'three\n');
    follower.poll();
    follower.stop();
    expect(lines).toEqual(['one', 'two', 'three']);
  });

  it('starts from the first line when asked', () => {
    const dir = tempDir();
    const now = new Date('2026-01-01T10:00:00Z');
    fs.writeFileSync(path.join(dir, 'email-error.2026-01-01.log'), 'a\nb\n');
    const lines: string[] = [];
    const follower = new LogFollower(
      dir,
      'error',
      (line) => lines.push(line),
      () => now,
    );
    follower.start(60_000, true);
    follower.stop();
    expect(lines).toEqual(['a', 'b']);
  });
});
