/**
 * Fills a folder fast over IMAP, the same way on any server: one TLS session, AUTHENTICATE PLAIN
 * with SASL-IR, then every APPEND written at once with non-synchronizing literals (LITERAL+,
 * RFC 7888) — pipelined, so a folder of thousands of messages costs one round trip, not one per
 * message (imapflow waits for each APPEND's answer); where the server offers MULTIAPPEND
 * (Dovecot), hundreds of messages go in one APPEND, one transaction. Both Dovecot and the
 * emulator offer LITERAL+ and SASL-IR; the helper refuses a server that does not.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7888 (LITERAL+)
 * @see https://www.rfc-editor.org/rfc/rfc4959 (SASL-IR)
 * @see https://www.rfc-editor.org/rfc/rfc3502 (MULTIAPPEND)
 */
import tls from 'node:tls';

export interface BulkAppendTarget {
  port: number;
  ca: string;
  user: string;
  password: string;
}

/** Appends every message to `folder` (an ASCII name; it must exist); resolves once each is acknowledged. */
export async function appendMany(target: BulkAppendTarget, folder: string, messages: readonly Buffer[]): Promise<void> {
  if (!/^[\x20-\x7e]+$/.test(folder) || /["\\]/.test(folder))
    throw new Error(`appendMany takes a plain ASCII folder name`);
  const socket = tls.connect({ host: '127.0.0.1', port: target.port, ca: [target.ca], servername: 'localhost' });
  const lines = lineReader(socket);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    const greeting = await lines.next();
    if (!greeting.startsWith('* OK')) throw new Error(`unexpected greeting: ${greeting}`);
    socket.write('c CAPABILITY\r\n');
    const capabilities = await lines.until('c');
    if (!/\bLITERAL\+/i.test(capabilities.join(' ')) || !/\bSASL-IR\b/i.test(capabilities.join(' ')))
      throw new Error(`the server offers no LITERAL+ or SASL-IR: ${capabilities.join(' ')}`);
    const plain = Buffer.from(`\0${target.user}\0${target.password}`).toString('base64');
    socket.write(`l AUTHENTICATE PLAIN ${plain}\r\n`);
    const login = await lines.until('l');
    if (!/^l OK/i.test(login.at(-1) ?? '')) throw new Error(`sign-in refused: ${login.at(-1) ?? ''}`);
    // MULTIAPPEND (RFC 3502, Dovecot) stores many messages in one command and one transaction;
    // without it (the emulator, as Exchange) every message is its own pipelined APPEND.
    const perCommand = /\bMULTIAPPEND\b/i.test(capabilities.join(' ')) ? MULTIAPPEND_COUNT : 1;
    const commands = Math.ceil(messages.length / perCommand);
    const answered = (async () => {
      for (let index = 0; index < commands; index += 1) {
        const done = (await lines.until(`a${index}`)).at(-1) ?? '';
        if (!/^a\d+ OK/i.test(done)) throw new Error(`APPEND ${index} refused: ${done}`);
      }
    })();
    // An unhandled rejection would outlive the write loop's own failure.
    answered.catch(() => undefined);
    for (let index = 0; index < commands; index += 1) {
      const parts: Buffer[] = [Buffer.from(`a${index} APPEND "${folder}"`)];
      for (const message of messages.slice(index * perCommand, (index + 1) * perCommand))
        parts.push(Buffer.from(` {${message.length}+}\r\n`), message);
      parts.push(CRLF);
      if (!socket.write(Buffer.concat(parts))) await new Promise((resolve) => socket.once('drain', resolve));
    }
    await answered;
    socket.write('z LOGOUT\r\n');
    await lines.until('z').catch(() => undefined);
  } finally {
    socket.destroy();
  }
}

const CRLF = Buffer.from('\r\n');
/** Messages per MULTIAPPEND command. */
const MULTIAPPEND_COUNT = 500;

/** Reads CRLF-terminated lines (the answers to APPEND and LOGIN carry no literals). */
function lineReader(socket: tls.TLSSocket): { next(): Promise<string>; until(tag: string): Promise<string[]> } {
  const ready: string[] = [];
  let buffered = '';
  let waiting: { resolve: (line: string) => void; reject: (error: Error) => void } | undefined;
  let failure: Error | undefined;
  socket.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('latin1');
    let end = buffered.indexOf('\r\n');
    while (end !== -1) {
      ready.push(buffered.slice(0, end));
      buffered = buffered.slice(end + 2);
      end = buffered.indexOf('\r\n');
    }
    wake();
  });
  const fail = (error: Error): void => {
    failure ??= error;
    wake();
  };
  socket.on('error', fail);
  socket.on('close', () => fail(new Error('the server closed the connection')));
  function wake(): void {
    if (waiting === undefined) return;
    const line = ready.shift();
    const current = waiting;
    if (line !== undefined) {
      waiting = undefined;
      current.resolve(line);
    } else if (failure !== undefined) {
      waiting = undefined;
      current.reject(failure);
    }
  }
  const next = (): Promise<string> =>
    new Promise((resolve, reject) => {
      waiting = { resolve, reject };
      wake();
    });
  return {
    next,
    /** Lines up to and including the one tagged `tag`. */
    async until(tag: string) {
      const seen: string[] = [];
      for (;;) {
        const line = await next();
        seen.push(line);
        if (line.startsWith(`${tag} `)) return seen;
      }
    },
  };
}
