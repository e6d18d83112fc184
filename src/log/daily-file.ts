import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';

export type Clock = () => Date;

/**
 * A destination that appends to `<prefix>.YYYY-MM-DD.log` in `dir`, moving to a new file when the
 * UTC day changes: the layout administrators of the reference product know
 * (`email-combined.2022-10-04.log`). Writes are synchronous: a line that was logged is on disk
 * even if the process is killed the next instant.
 */
export class DailyFile extends Writable {
  private day = '';
  private fd: number | undefined;

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

  /** Synchronous write used by pino's multistream (it calls `write` directly). */
  writeLine(chunk: string | Buffer): void {
    const day = this.clock().toISOString().slice(0, 10);
    if (day !== this.day || this.fd === undefined) {
      if (this.fd !== undefined) fs.closeSync(this.fd);
      this.fd = fs.openSync(path.join(this.dir, `${this.prefix}.${day}.log`), 'a', 0o640);
      this.day = day;
    }
    if (typeof chunk === 'string') fs.writeSync(this.fd, chunk);
    else fs.writeSync(this.fd, chunk);
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
    callback();
  }
}
