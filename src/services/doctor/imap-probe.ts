import { ImapFlow } from 'imapflow';
import type { PosternError } from '../../errors/index.js';
import { mapImapError } from '../../mail/imap/imap-errors.js';

export interface ImapProbeTarget {
  host: string;
  port: number;
  tls: { ca?: string };
  user: string;
  /** XOAUTH2 with this token… */
  token?: string;
  /** …or LOGIN with this password (an account without Modern Authentication). */
  password?: string;
}

export type ImapProbe = { ok: true; messages: number } | { ok: false; error: PosternError };

/** Signs in (XOAUTH2, or a password) and opens a folder read-only; never changes the mailbox. */
export async function probeImap(target: ImapProbeTarget, folder: string): Promise<ImapProbe> {
  const client = new ImapFlow({
    host: target.host,
    port: target.port,
    secure: true,
    tls: target.tls,
    auth:
      target.password === undefined
        ? { user: target.user, accessToken: target.token ?? '' }
        : { user: target.user, pass: target.password },
    logger: false,
    connectionTimeout: 20_000,
    greetingTimeout: 20_000,
    socketTimeout: 30_000,
  });
  client.on('error', () => undefined);
  const context = {
    host: target.host,
    user: target.user,
    folder,
    method: target.password === undefined ? ('xoauth2' as const) : ('password' as const),
  };
  try {
    await client.connect();
  } catch (error) {
    return { ok: false, error: mapImapError(error, context) };
  }
  try {
    const mailbox = await client.mailboxOpen(folder, { readOnly: true });
    return { ok: true, messages: mailbox.exists };
  } catch (error) {
    return { ok: false, error: mapImapError(error, context) };
  } finally {
    await client.logout().catch(() => client.close());
  }
}
