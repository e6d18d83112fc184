/**
 * A mailbox of the emulator reached with a username and password (the emulator's basic-auth
 * setting must allow it): the API body that creates its IMAP account in Postern, and an APPEND
 * that puts mail into it. Shared by the benchmarks and the tests that run Postern against the
 * emulator without a Cloud Provider.
 */
import { ImapFlow } from 'imapflow';

/** An emulator mailbox user. */
export interface MailboxUser {
  readonly upn: string;
  readonly password: string;
}

/** `POST /api/email/accounts` body for `user`'s mailbox on the emulator at `urls`. */
export function passwordAccountBody(
  urls: { readonly [name: string]: string | undefined },
  user: MailboxUser,
  names: { readonly name: string; readonly key: string },
): Record<string, unknown> {
  return {
    ...names,
    emailAddress: user.upn,
    service: 'imap',
    modernAuth: false,
    username: user.upn,
    password: user.password,
    imapHost: '127.0.0.1',
    imapPort: Number(new URL(urls['imap'] ?? '').port),
    smtpHost: '127.0.0.1',
    smtpPort: Number(new URL(urls['smtp'] ?? '').port),
    firstSync: { kind: 'all' },
  };
}

/** Puts a raw message into `user`'s Inbox over IMAP (APPEND) on the emulator, as any mail client could. */
export async function appendToInbox(
  emulator: { readonly urls: { readonly [name: string]: string | undefined }; readonly caPem: string },
  user: MailboxUser,
  raw: Buffer,
): Promise<void> {
  const client = new ImapFlow({
    host: '127.0.0.1',
    port: Number(new URL(emulator.urls['imap'] ?? '').port),
    secure: true,
    tls: { ca: [emulator.caPem] },
    auth: { user: user.upn, pass: user.password },
    logger: false,
  });
  await client.connect();
  try {
    await client.append('INBOX', raw);
  } finally {
    await client.logout();
  }
}
