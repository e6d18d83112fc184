/**
 * Buffered, back-pressured writing of responses to a connection: parts are gathered into chunks
 * of about 64 KB, and a large FETCH waits for the socket to drain instead of filling memory.
 */
import type { Socket } from 'node:net';
import type { WirePart } from './wire.js';

const CHUNK = 64 * 1024;

export class ResponseWriter {
  private parts: Buffer[] = [];
  private size = 0;

  constructor(private readonly socket: Socket) {}

  /** Queues one response line (CRLF added). */
  line(text: string): void {
    this.push([text, '\r\n']);
  }

  /** Queues parts of a response; the caller adds the CRLF. */
  push(parts: readonly WirePart[]): void {
    for (const part of parts) {
      const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
      this.parts.push(bytes);
      this.size += bytes.length;
    }
  }

  /** Writes out when enough has gathered; waits while the socket is congested. */
  async maybeFlush(): Promise<void> {
    if (this.size >= CHUNK) await this.flush();
  }

  /** Writes everything queued, then waits for the socket to drain if it is congested. */
  async flush(): Promise<void> {
    if (this.size === 0 || this.socket.destroyed) {
      this.parts = [];
      this.size = 0;
      return;
    }
    const data = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    if (!this.socket.write(data)) await waitForDrain(this.socket);
  }
}

function waitForDrain(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}
