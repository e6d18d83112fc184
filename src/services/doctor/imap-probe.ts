import { ImapFlow } from 'imapflow';
import type { PosternError } from '../../errors/index.js';
import { mapImapError } from '../../mail/imap/imap-errors.js';

export interface ImapProbeTarget {
  host: string;
  port: number;
  tls: { ca?: string };
  user: string;
  token: string;
}

export type ImapProbe = { ok: true; messages: number } | { ok: false; error: PosternError };

/** Signs in with XOAUTH2 and opens a folder read-only; never changes the mailbox. */
export async function probeImap(target: ImapProbeTarget, folder: string): Promise<ImapProbe> {
  const client = new ImapFlow({
    host: target.host,
    port: target.port,
    secure: true,
    tls: target.tls,
    auth: { user: target.user, accessToken: target.token },
    logger: false,
    connectionTimeout: 20_000,
    greetingTimeout: 20_000,
    socketTimeout: 30_000,
  });
  client.on('error', () => undefined);
  const context = { host: target.host, user: target.user, folder };
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
