import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';

export type Clock = () => Date;

/**
 * A destination that appends to `<prefix>.YYYY-MM-DD.log` in `dir`, moving to a new file when the
 * UTC day changes: the layout administrators of the reference product know
 * (`email-combined.2022-10-04.log`). Writes are synchronous: a line that was logged is on disk
 * even if the process is killed the next instant.
 *
 * A write that fails — a full disk (ENOSPC), a read-only or vanished file system — never throws:
 * logging is called from everywhere, and an exception there would end whatever was being done,
 * or the process. The line is dropped and counted, the file is opened again at the next line, and
 * the first line written after the outage says how many were dropped and why.
 */
export class DailyFile extends Writable {
  private day = '';
  private fd: number | undefined;
  /** Lines dropped since the last successful write, and the code of the first failure. */
  private droppedSince = 0;
  private droppedCode = '';
  private droppedTotal = 0;

  constructor(
    private readonly dir: string,
    private readonly prefix: string,
    private readonly clock: Clock = () => new Date(),
  ) {
    super({ decodeStrings: false });
    fs.mkdirSync(dir, { recursive: true, mode: 0o750 });
  }

  /** The file the next line goes to. */
  currentPath(): string {
    return path.join(this.dir, `${this.prefix}.${this.clock().toISOString().slice(0, 10)}.log`);
  }

  override _write(chunk: string | Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    try {
      this.writeLine(chunk);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  /** Lines dropped because they could not be written, since this file was created. */
  get dropped(): number {
    return this.droppedTotal;
  }

  /** Synchronous write used by pino's multistream (it calls `write` directly). Never throws. */
  writeLine(chunk: string | Buffer): void {
    try {
      const fd = this.open();
      if (this.droppedSince > 0) {
        fs.writeSync(fd, this.droppedNotice());
        this.droppedSince = 0;
      }
      if (typeof chunk === 'string') fs.writeSync(fd, chunk);
      else fs.writeSync(fd, chunk);
    } catch (error) {
      this.drop(error);
    }
  }

  private open(): number {
    const day = this.clock().toISOString().slice(0, 10);
    if (day !== this.day || this.fd === undefined) {
      this.closeQuietly();
      this.fd = fs.openSync(path.join(this.dir, `${this.prefix}.${day}.log`), 'a', 0o640);
      this.day = day;
    }
    return this.fd;
  }

  private drop(error: unknown): void {
    if (this.droppedSince === 0) {
      const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
      this.droppedCode = code === '' ? 'an error' : code;
    }
    this.droppedSince += 1;
    this.droppedTotal += 1;
    // Opened again at the next line: the space may come back, or the file system be remounted.
    this.closeQuietly();
  }

  /** A log line (pino's JSON shape) saying how many lines were lost and why. */
  private droppedNotice(): string {
    return `${JSON.stringify({
      level: 40,
      time: this.clock().toISOString(),
      pid: process.pid,
      component: 'log',
      dropped: this.droppedSince,
      reason: this.droppedCode,
      msg: `${this.droppedSince} log line(s) could not be written to ${this.prefix} (${this.droppedCode}) and were dropped`,
    })}\n`;
  }

  private closeQuietly(): void {
    if (this.fd === undefined) return;
    try {
      fs.closeSync(this.fd);
    } catch {
      // A descriptor that cannot be closed is gone all the same.
    }
    this.fd = undefined;
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.closeQuietly();
    callback();
  }
}
