/**
 * A raw line-oriented TLS client for transcript tests: send exact bytes, read exact lines.
 */
import tls from 'node:tls';

export class RawClient {
  private buffer = '';
  private readonly lines: string[] = [];
  private waiters: Array<() => void> = [];
  private ended = false;

  private constructor(readonly socket: tls.TLSSocket) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      let index = this.buffer.indexOf('\r\n');
      while (index !== -1) {
        this.lines.push(this.buffer.slice(0, index));
        this.buffer = this.buffer.slice(index + 2);
        index = this.buffer.indexOf('\r\n');
      }
      this.wake();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static connect(port: number, ca: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () =>
        resolve(new RawClient(socket)),
      );
      socket.once('error', reject);
    });
  }

  get closed(): boolean {
    return this.ended;
  }

  /** The next line; rejects if the connection closes first or after `timeoutMs`. */
  async line(timeoutMs = 2000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length === 0) {
      if (this.ended) throw new Error('connection closed');
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error('timed out waiting for a line');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.lines.shift() ?? '';
  }

  send(text: string): void {
    this.socket.write(`${text}\r\n`);
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Sends a tagged command and returns every line up to and including the tagged reply. */
  async command(tag: string, text: string): Promise<string[]> {
    this.send(`${tag} ${text}`);
    return this.until(tag);
  }

  async until(tag: string): Promise<string[]> {
    const out: string[] = [];
    for (;;) {
      const line = await this.line();
      out.push(line);
      if (line.startsWith(`${tag} `)) return out;
    }
  }

  /** Resolves once the server has closed the connection. */
  async waitClosed(timeoutMs = 2000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      if (Date.now() > deadline) throw new Error('connection still open');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }
}
