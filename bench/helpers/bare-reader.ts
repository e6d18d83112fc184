/**
 * The least a program can do to read a mailbox over IMAP, the yardstick of the ingest benchmarks:
 * one imapflow session, `UID FETCH 1:* (UID BODY.PEEK[] INTERNALDATE RFC822.SIZE)`, and each
 * message parsed with mailparser's `simpleParser` (default options) as it arrives; nothing stored.
 */
import { ImapFlow } from 'imapflow';
import { simpleParser } from 'mailparser';
import { measureRead, type ReadRun } from './read-comparison.js';

/** An IMAPS server on loopback and the CA its certificate chains to. */
export interface BareServer {
  readonly port: number;
  readonly caPem: string;
}

/** A token (XOAUTH2) or a password. */
export type BareAuth =
  { readonly user: string; readonly accessToken: string } | { readonly user: string; readonly pass: string };

/** Reads and parses every message of the Inbox once. */
export function bareRead(server: BareServer, auth: BareAuth): Promise<ReadRun> {
  return measureRead(async () => {
    const client = new ImapFlow({
      host: '127.0.0.1',
      port: server.port,
      secure: true,
      tls: { ca: server.caPem, minVersion: 'TLSv1.2' },
      auth,
      logger: false,
      disableAutoIdle: true,
    });
    await client.connect();
    await client.mailboxOpen('INBOX');
    let messages = 0;
    for await (const message of client.fetch(
      '1:*',
      { uid: true, source: true, internalDate: true, size: true },
      { uid: true },
    )) {
      if (message.source === undefined) throw new Error(`no source for UID ${message.uid}`);
      const parsed = await simpleParser(message.source);
      if (parsed.messageId === undefined) throw new Error(`UID ${message.uid} parsed without a Message-ID`);
      messages += 1;
    }
    await client.logout();
    return messages;
  });
}
