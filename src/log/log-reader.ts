/**
 * Reading the day files back (`postern logs`): find `email-combined.YYYY-MM-DD.log` or
 * `email-error.YYYY-MM-DD.log` in the log directory, parse pino's JSON lines, filter by account
 * (its key, or its id), level and time, and format them for a terminal. Following a file polls
 * its size, so it works on every filesystem, and moves to the next day's file at midnight UTC.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Clock } from './daily-file.js';

/** Which files: everything, or errors only. */
export type LogKind = 'combined' | 'error';

/** One day file. */
export interface DayFile {
  readonly day: string;
  readonly path: string;
}

/** A parsed line. Lines that are not JSON are kept with only `raw`. */
export interface LogEntry {
  readonly raw: string;
  readonly time: Date | null;
  readonly level: number | null;
  readonly msg: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** What to keep. */
export interface LogFilter {
  /** Lines about this account: its key (any case) in `key`/`accountKey`, or its id in `accountId`. */
  readonly account?: { readonly key: string; readonly id?: number };
  readonly since?: Date;
  /** Lowest pino level kept (30 = info). */
  readonly minLevel?: number;
}

const LEVEL_NAMES: Readonly<Record<number, string>> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
const FILE_NAME = /^email-(combined|error)\.(\d{4}-\d{2}-\d{2})\.log$/;
/** Fields shown in the line's head, not repeated among the rest. */
const HEAD_FIELDS = new Set(['time', 'level', 'msg', 'pid', 'hostname', 'component', 'key', 'accountKey', 'accountId']);

/** The day files of a kind in `dir`, oldest first; days before `since` (UTC) are skipped. */
export function listDayFiles(dir: string, kind: LogKind, since?: Date): DayFile[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const firstDay = since === undefined ? '' : since.toISOString().slice(0, 10);
  return names
    .map((name) => FILE_NAME.exec(name))
    .filter((match): match is RegExpExecArray => match !== null && match[1] === kind && (match[2] ?? '') >= firstDay)
    .map((match) => ({ day: match[2] ?? '', path: path.join(dir, match[0]) }))
    .sort((a, b) => a.day.localeCompare(b.day));
}

/** Parses one line. */
export function parseLogLine(raw: string): LogEntry {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { raw, time: null, level: null, msg: raw, fields: {} };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { raw, time: null, level: null, msg: raw, fields: {} };
  const fields: Record<string, unknown> = { ...value };
  const time = typeof fields.time === 'string' || typeof fields.time === 'number' ? new Date(fields.time) : null;
  return {
    raw,
    time: time !== null && !Number.isNaN(time.getTime()) ? time : null,
    level: typeof fields.level === 'number' ? fields.level : null,
    msg: typeof fields.msg === 'string' ? fields.msg : '',
    fields,
  };
}

/** True when the entry passes the filter. Unparsed lines pass only an empty filter. */
export function matchesLogFilter(entry: LogEntry, filter: LogFilter): boolean {
  if (filter.since !== undefined && (entry.time === null || entry.time < filter.since)) return false;
  if (filter.minLevel !== undefined && (entry.level === null || entry.level < filter.minLevel)) return false;
  if (filter.account !== undefined) {
    const wanted = filter.account.key.toLowerCase();
    const { key, accountKey, accountId } = entry.fields;
    const byKey = [key, accountKey].some((value) => typeof value === 'string' && value.toLowerCase() === wanted);
    const byId = filter.account.id !== undefined && accountId === filter.account.id;
    if (!byKey && !byId) return false;
  }
  return true;
}

/** Every entry of the files that passes the filter, oldest first. */
export function* readLogEntries(files: readonly DayFile[], filter: LogFilter): Generator<LogEntry> {
  for (const file of files) {
    let text: string;
    try {
      text = fs.readFileSync(file.path, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      const entry = parseLogLine(line);
      if (matchesLogFilter(entry, filter)) yield entry;
    }
  }
}

/** One line for a terminal: `time LEVEL component [KEY#id] message key=value…`. */
export function formatLogEntry(entry: LogEntry, options: { color?: boolean } = {}): string {
  if (entry.time === null && entry.level === null) return entry.raw;
  const f = entry.fields;
  const level = entry.level === null ? '?' : (LEVEL_NAMES[entry.level] ?? String(entry.level));
  const key = typeof f.key === 'string' ? f.key : typeof f.accountKey === 'string' ? f.accountKey : undefined;
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a JSON field of any type, as String() shows it
  const accountId = f.accountId === undefined ? '' : `#${String(f.accountId)}`;
  const account = key === undefined ? (accountId === '' ? '' : ` [${accountId}]`) : ` [${key}${accountId}]`;
  const component = typeof f.component === 'string' ? ` ${f.component}` : '';
  const rest = Object.entries(f)
    .filter(([name]) => !HEAD_FIELDS.has(name))
    .map(([name, value]) => `${name}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  const head = `${entry.time?.toISOString() ?? ''} ${paint(level.padEnd(5), entry.level, options.color === true)}${component}${account}`;
  return `${head} ${entry.msg}${rest === '' ? '' : `  ${rest}`}`;
}

function paint(text: string, level: number | null, color: boolean): string {
  if (!color || level === null) return text;
  const code = level >= 50 ? 31 : level >= 40 ? 33 : level >= 30 ? 32 : 90;
  return `\u001b[${code}m${text}\u001b[0m`;
}

/**
 * Parses `--since`: an ISO-8601 date or date-time, or a duration back from now (`30m`, `2h`,
 * `7d`). Undefined when it is neither.
 */
export function parseSince(value: string, now: Date): Date | undefined {
  const relative = /^(\d+)\s*([smhd])$/i.exec(value.trim());
  if (relative !== null) {
    const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(relative[2] ?? 's').toLowerCase()] ?? 1000;
    return new Date(now.getTime() - Number(relative[1]) * unit);
  }
  if (!/^\d{4}-\d{2}-\d{2}/.test(value.trim())) return undefined;
  const date = new Date(value.trim());
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/**
 * Follows the day files of a kind: emits each complete line appended after `start` ('end' of
 * today's file by default), and moves to the next day's file when the day changes.
 */
export class LogFollower {
  private file = '';
  private offset = 0;
  private pending = '';
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly dir: string,
    private readonly kind: LogKind,
    private readonly onLine: (line: string) => void,
    private readonly clock: Clock = () => new Date(),
  ) {}

  /**
   * Starts polling every `intervalMs`. Lines already in today's file are emitted first when
   * `fromStart` is true, skipped otherwise.
   */
  start(intervalMs = 500, fromStart = false): void {
    this.file = this.todayPath();
    this.offset = fromStart ? 0 : sizeOf(this.file);
    if (fromStart) this.poll();
    this.timer = setInterval(() => this.poll(), intervalMs);
  }

  /** Today's file, as followed. */
  currentPath(): string {
    return this.todayPath();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Reads what was appended since the last poll (public for tests). */
  poll(): void {
    this.drain();
    const today = this.todayPath();
    if (today !== this.file) {
      if (this.pending !== '') this.onLine(this.pending);
      this.pending = '';
      this.file = today;
      this.offset = 0;
      this.drain();
    }
  }

  private drain(): void {
    const size = sizeOf(this.file);
    if (size < this.offset) this.offset = 0;
    if (size === this.offset) return;
    const fd = fs.openSync(this.file, 'r');
    try {
      const buffer = Buffer.alloc(size - this.offset);
      const read = fs.readSync(fd, buffer, 0, buffer.length, this.offset);
      this.offset += read;
      const lines = (this.pending + buffer.subarray(0, read).toString('utf8')).split('\n');
      this.pending = lines.pop() ?? '';
      for (const line of lines) if (line.trim() !== '') this.onLine(line);
    } finally {
      fs.closeSync(fd);
    }
  }

  private todayPath(): string {
    return path.join(this.dir, `email-${this.kind}.${this.clock().toISOString().slice(0, 10)}.log`);
  }
}

function sizeOf(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}
