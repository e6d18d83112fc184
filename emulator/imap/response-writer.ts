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
  /** Text not yet turned into octets: consecutive strings become one buffer, not one each. */
  private text = '';

  constructor(private readonly socket: Socket) {}

  /** Queues one response line (CRLF added). */
  line(text: string): void {
    this.text += `${text}\r\n`;
  }

  /** Queues parts of a response; the caller adds the CRLF. */
  push(parts: readonly WirePart[]): void {
    for (const part of parts) {
      if (typeof part === 'string') {
        this.text += part;
        continue;
      }
      this.takeText();
      this.parts.push(part);
      this.size += part.length;
    }
  }

  private takeText(): void {
    if (this.text === '') return;
    const bytes = Buffer.from(this.text, 'utf8');
    this.text = '';
    this.parts.push(bytes);
    this.size += bytes.length;
  }

  /** Writes out when enough has gathered; waits while the socket is congested. */
  async maybeFlush(): Promise<void> {
    if (this.size + this.text.length >= CHUNK) await this.flush();
  }

  /** Writes everything queued, then waits for the socket to drain if it is congested. */
  async flush(): Promise<void> {
    this.takeText();
    if (this.size === 0 || this.socket.destroyed) {
      this.parts = [];
      this.size = 0;
      return;
    }
    const [only] = this.parts;
    const data = only !== undefined && this.parts.length === 1 ? only : Buffer.concat(this.parts, this.size);
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
