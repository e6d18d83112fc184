/**
 * The interop suite's real servers, started together and stopped together: a private CA and a
 * server certificate for 127.0.0.1 generated for this run (the emulator's generator, in a
 * directory of its own — a CA nobody else trusts), Dovecot (IMAPS) and Postfix (submission with
 * STARTTLS, SASL through Dovecot) on loopback ports, and the SMTP sink Postfix relays everything
 * to. Nothing survives `stop()`; a failed start stops what had started.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { startDovecot, type RunningDovecot } from './dovecot.js';
import { startPostfix, type RunningPostfix } from './postfix.js';
import { createServerDir } from './server-dir.js';

/** A message that reached the sink through Postfix. */
export interface SunkMessage {
  envelopeFrom: string;
  recipients: string[];
  subject: string | undefined;
  inReplyTo: string | undefined;
  raw: string;
}

export interface InteropServers {
  dir: string;
  /** The private CA (PEM) that signed both servers' certificate. */
  caPem: string;
  imapsPort: number;
  submissionPort: number;
  dovecot: RunningDovecot;
  postfix: RunningPostfix;
  /** What Postfix delivered so far. */
  sunk: SunkMessage[];
  /** Puts a message into a user's folder over IMAP (APPEND), signed in with the user's password. */
  append(user: string, password: string, raw: string, folder?: string): Promise<void>;
  /** An IMAP client signed in with a password, trusting the private CA; the caller logs out. */
  imapClient(user: string, password: string): Promise<ImapFlow>;
  /** Both servers' logs, for failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

export async function startInteropServers(options: {
  introspectionUrl: string;
  introspectionCaFile: string;
  passwords: Record<string, string>;
}): Promise<InteropServers> {
  const { dir, tls } = await createServerDir('postern-interop-');
  // Dovecot's auth process (not root) reads the emulator's CA: a copy it may open.
  const introspectionCaFile = path.join(dir, 'emulator-ca.pem');
  fs.copyFileSync(options.introspectionCaFile, introspectionCaFile);
  fs.chmodSync(introspectionCaFile, 0o644);
  const authSocket = path.join(dir, 'auth', 'sasl');
  const sunk: SunkMessage[] = [];
  const sinkServer = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        void simpleParser(raw).then(
          (parsed) => {
            sunk.push({
              envelopeFrom: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
              recipients: session.envelope.rcptTo.map((r) => r.address),
              subject: parsed.subject,
              inReplyTo: parsed.inReplyTo,
              raw,
            });
            callback();
          },
          (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
        );
      });
    },
  });
  const relayPort = await new Promise<number>((resolve, reject) => {
    sinkServer.once('error', reject);
    sinkServer.listen(0, '127.0.0.1', () => {
      const address = sinkServer.server.address();
      if (typeof address === 'object' && address !== null) resolve(address.port);
      else reject(new Error('the sink has no port'));
    });
  });
  const stopSink = () => new Promise<void>((resolve) => sinkServer.close(() => resolve()));
  let dovecot: RunningDovecot | undefined;
  let postfix: RunningPostfix | undefined;
  const stopAll = async () => {
    await postfix?.stop();
    await dovecot?.stop();
    await stopSink();
  };
  try {
    dovecot = await startDovecot({
      dir: path.join(dir, 'dovecot'),
      certFile: tls.certFile,
      keyFile: tls.keyFile,
      introspection: { url: options.introspectionUrl, caFile: introspectionCaFile },
      passwords: options.passwords,
      authSocket,
    });
    postfix = await startPostfix({
      dir: path.join(dir, 'postfix'),
      certFile: tls.certFile,
      keyFile: tls.keyFile,
      authSocket,
      relayPort,
    });
  } catch (error) {
    await stopAll();
    throw error;
  }
  const running = { dovecot, postfix };
  const imapClient = async (user: string, password: string): Promise<ImapFlow> => {
    const client = new ImapFlow({
      host: '127.0.0.1',
      port: running.dovecot.imapsPort,
      secure: true,
      tls: { ca: [tls.caPem] },
      auth: { user, pass: password },
      logger: false,
    });
    await client.connect();
    return client;
  };
  return {
    dir,
    caPem: tls.caPem,
    imapsPort: running.dovecot.imapsPort,
    submissionPort: running.postfix.submissionPort,
    dovecot: running.dovecot,
    postfix: running.postfix,
    sunk,
    imapClient,
    async append(user, password, raw, folder = 'INBOX') {
      const client = await imapClient(user, password);
      try {
        await client.append(folder, raw);
      } finally {
        await client.logout();
      }
    },
    logs: () => `${running.dovecot.log()}${running.postfix.log()}`,
    async stop() {
      await stopAll();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
