/**
 * The emulator with its Exchange half, in-process on loopback, for the IMAP sync suites: tokens
 * from its identity endpoints (ROPC with the sample public client), mail delivered through its
 * control API, faults injected the same way.
 */
import { createExchangeExtension, type ExchangeExtension } from '../../emulator/exchange/exchange-extension.js';
import { z } from 'zod';
import {
  CONTOSO,
  EXCHANGE_SCOPES,
  postToken,
  startTestEmulator,
  type TestEmulator,
} from '../emulator/helpers/emulator.js';

export { CONTOSO };

/** The running emulator and handles on its Exchange half. */
export interface MailEmulator {
  readonly emu: TestEmulator;
  readonly exchange: ExchangeExtension;
  readonly imapPort: number;
  readonly ca: string;
  /** A delegated Exchange access token for a seeded user, from the token endpoint (ROPC). */
  token(user: { upn: string; password: string }): Promise<{ token: string; expiresAt: Date }>;
  /** Puts a raw message into a mailbox folder (default the Inbox) through the control API. */
  deliver(
    mailbox: string,
    raw: Buffer | string,
    options?: { folder?: string; internalDate?: Date; flags?: string[] },
  ): Promise<{ uid: number; uidValidity: number }>;
  /** The messages of a folder as the emulator holds them. */
  folder(
    mailbox: string,
    folder: string,
  ): Promise<{ uidValidity: number; messages: Array<{ uid: number; flags: string[] }> }>;
  stop(): Promise<void>;
}

const tokenReply = z.object({ access_token: z.string(), expires_in: z.number() });
const deliverReply = z.object({ delivered: z.array(z.object({ uid: z.number(), uidValidity: z.number() })) });
const folderReply = z.object({
  folder: z.object({ uidValidity: z.number() }).passthrough(),
  messages: z.array(z.object({ uid: z.number(), flags: z.array(z.string()) }).passthrough()),
});

export async function startMailEmulator(): Promise<MailEmulator> {
  let exchange: ExchangeExtension | undefined;
  const emu = await startTestEmulator({
    // The Exchange half is added here rather than built in, so that the suite holds its handle.
    exchange: false,
    extensions: [
      (core) => {
        exchange = createExchangeExtension(core, { inMemory: true });
        return exchange;
      },
    ],
  });
  if (exchange === undefined) throw new Error('the Exchange extension did not start');
  const imapUrl = emu.handle.urls.imap;
  if (imapUrl === undefined) throw new Error('the emulator has no IMAP endpoint');
  const started = exchange;
  return {
    emu,
    exchange: started,
    imapPort: Number(new URL(imapUrl).port),
    ca: emu.handle.caPem,
    async token(user) {
      const reply = await postToken(emu, {
        grant_type: 'password',
        client_id: CONTOSO.publicClient.appId,
        username: user.upn,
        password: user.password,
        scope: EXCHANGE_SCOPES,
      });
      if (reply.status !== 200) throw new Error(`token endpoint: ${reply.status} ${JSON.stringify(reply.body)}`);
      const body = tokenReply.parse(reply.body);
      return { token: body.access_token, expiresAt: new Date(emu.handle.clock.nowMs() + body.expires_in * 1000) };
    },
    async deliver(mailbox, raw, options = {}) {
      const body = await emu.control('POST', '/exchange/messages', {
        mailbox,
        folder: options.folder ?? 'Inbox',
        rawBase64: Buffer.from(raw).toString('base64'),
        ...(options.flags === undefined ? {} : { flags: options.flags }),
        ...(options.internalDate === undefined ? {} : { internalDate: options.internalDate.toISOString() }),
      });
      const first = deliverReply.parse(body).delivered[0];
      if (first === undefined) throw new Error('nothing was delivered');
      return first;
    },
    async folder(mailbox, folder) {
      const body = folderReply.parse(
        await emu.control(
          'GET',
          `/exchange/mailboxes/${encodeURIComponent(mailbox)}/folders/${encodeURIComponent(folder)}/messages`,
        ),
      );
      return {
        uidValidity: body.folder.uidValidity,
        messages: body.messages.map((m) => ({ uid: m.uid, flags: m.flags })),
      };
    },
    stop: () => emu.stop(),
  };
}

/** Waits until `check` holds, polling every 25 ms, or fails after `timeoutMs`. */
export async function eventually(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
