/**
 * The soak's Microsoft 365: the emulator in the soak's own process (identity platform, IMAP and
 * SMTP, mail in memory) with the generated tenant of `world-protocol.ts` — the delegate
 * `agent@bench.example` with FullAccess and SendAs on N shared mailboxes — driven through its
 * control API only: mail delivered as an outside sender's, the faults, the submissions it accepted.
 * Postern runs in a process of its own, so that the emulator survives Postern's `kill -9`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { startEmulator, type EmulatorHandle } from '../../emulator/main.js';
import { WORLD_AGENT, queueMailbox, worldSeed } from './world-protocol.js';

const sentReply = z.object({ sent: z.array(z.object({ messageId: z.string().nullable() })) });

/** The running emulator. */
export class SoakWorld {
  private constructor(
    private readonly handle: EmulatorHandle,
    private readonly dataDir: string,
    /** The shared mailboxes, `queue0001@bench.example` … */
    readonly mailboxes: readonly string[],
  ) {}

  /** Starts the emulator with `mailboxes` shared mailboxes. */
  static async start(mailboxes: number): Promise<SoakWorld> {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'postern-soak-world-'));
    const handle = await startEmulator({
      dataDir,
      seed: worldSeed({ mailboxes, senders: 0 }),
      exchange: { inMemory: true },
    });
    return new SoakWorld(
      handle,
      dataDir,
      Array.from({ length: mailboxes }, (_, i) => queueMailbox(i + 1)),
    );
  }

  get authority(): string {
    return this.handle.urls.https;
  }

  get caFile(): string {
    return this.handle.caFile;
  }

  get imapPort(): number {
    return Number(new URL(this.handle.urls.imap ?? 'x://0:0').port);
  }

  get smtpPort(): number {
    return Number(new URL(this.handle.urls.smtp ?? 'x://0:0').port);
  }

  /** A control API call; the parsed JSON answer (undefined when empty); throws on an answer other than 2xx. */
  async control(method: string, route: string, body?: unknown): Promise<unknown> {
    const response = await this.handle.control(method, route, body);
    const text = await response.text();
    if (!response.ok) throw new Error(`control ${method} ${route} → ${response.status} ${text}`);
    return text.length === 0 ? undefined : JSON.parse(text);
  }

  /** Delivers a message from an outside sender to `mailbox`, as Exchange's transport would. */
  async deliver(mailbox: string, message: { from: string; subject: string; text: string; messageId: string }) {
    await this.control('POST', '/exchange/messages', { ...message, to: mailbox });
  }

  /** How many times the emulator accepted a submission of each Message-ID. */
  async submissions(): Promise<Map<string, number>> {
    const { sent } = sentReply.parse(await this.control('GET', '/exchange/sent'));
    const counts = new Map<string, number>();
    for (const record of sent) {
      const id = record.messageId ?? '(none)';
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    return counts;
  }

  /** Takes the delegate's FullAccess to `mailbox` away (IMAP then answers "authenticated but not connected"). */
  async revokeFullAccess(mailbox: string): Promise<void> {
    await this.control(
      'DELETE',
      `/mailboxes/${encodeURIComponent(mailbox)}/delegates/${encodeURIComponent(WORLD_AGENT)}?rights=FullAccess`,
    );
  }

  /** Gives it back. */
  async grantFullAccess(mailbox: string): Promise<void> {
    await this.control('POST', `/mailboxes/${encodeURIComponent(mailbox)}/delegates`, {
      user: WORLD_AGENT,
      rights: ['FullAccess'],
    });
  }

  /** Ends every scripted fault of the Exchange half. */
  async clearFaults(): Promise<void> {
    await this.control('DELETE', '/exchange/faults');
  }

  async close(): Promise<void> {
    await this.handle.close();
    await rm(this.dataDir, { recursive: true, force: true });
  }
}
