/**
 * The API body that creates an IMAP account signing in with a username and password against the
 * emulator's IMAP and SMTP listeners on loopback (the emulator's basic-auth setting must allow it).
 * Shared by the benchmarks and the tests that run Postern against the emulator without a Cloud
 * Provider.
 */

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
