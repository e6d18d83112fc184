/**
 * A raw SMTP client for transcript tests: plain TCP, then STARTTLS on demand; reads whole
 * (multi-line) replies.
 */
import net from 'node:net';
import tls from 'node:tls';

export class SmtpRawClient {
  private buffer = '';
  private lines: string[] = [];
  private waiters: Array<() => void> = [];
  private ended = false;
  private socket: net.Socket;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.attach(socket);
  }

  static connect(port: number): Promise<SmtpRawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(new SmtpRawClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends STARTTLS, expects 220, and upgrades the connection. Returns the 220 reply. */
  async startTls(ca: string): Promise<string> {
    const reply = await this.command('STARTTLS');
    this.socket.removeAllListeners('data');
    const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const upgraded = tls.connect({ socket: this.socket, ca, servername: 'localhost' }, () => resolve(upgraded));
      upgraded.once('error', reject);
    });
    this.socket = secure;
    this.attach(secure);
    return reply.join('\n');
  }

  /** One complete reply (all its lines). */
  async reply(timeoutMs = 3000): Promise<string[]> {
    const out: string[] = [];
    for (;;) {
      const line = await this.line(timeoutMs);
      out.push(line);
      if (/^\d{3} /.test(line) || /^\d{3}$/.test(line)) return out;
    }
  }

  async command(text: string): Promise<string[]> {
    this.send(text);
    return this.reply();
  }

  send(text: string): void {
    this.socket.write(`${text}\r\n`);
  }

  get closed(): boolean {
    return this.ended;
  }

  close(): void {
    this.socket.destroy();
  }

  private async line(timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length === 0) {
      if (this.ended) throw new Error('connection closed');
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error('timed out waiting for a reply');
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

  private attach(socket: net.Socket): void {
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

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }
}
