import type { PosternError } from '../../errors/index.js';
import { PROBE_TIMEOUTS, createImapClient } from '../../mail/access/imap-client.js';
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
  /** The token is app-only (client credentials). */
  appOnly?: boolean;
}

export type ImapProbe = { ok: true; messages: number } | { ok: false; error: PosternError };

/**
 * Signs in (XOAUTH2, or a password) and opens a folder read-only; never changes the mailbox. The
 * client comes from the mailbox-access layer's factory, like the sync's and the connection test's.
 */
export async function probeImap(target: ImapProbeTarget, folder: string): Promise<ImapProbe> {
  const client = createImapClient({
    host: target.host,
    port: target.port,
    tls: target.tls,
    auth:
      target.password === undefined
        ? { user: target.user, accessToken: target.token ?? '' }
        : { user: target.user, pass: target.password },
    timeouts: PROBE_TIMEOUTS,
  });
  const context = {
    host: target.host,
    port: target.port,
    user: target.user,
    folder,
    method:
      target.password !== undefined
        ? ('password' as const)
        : target.appOnly === true
          ? ('xoauth2-app' as const)
          : ('xoauth2' as const),
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
