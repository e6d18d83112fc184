/**
 * The emulated `outlook.office365.com:993`: IMAP4rev1 over implicit TLS on loopback, one
 * `ImapSession` per connection, a per-mailbox connection cap, token-expiry enforcement driven by
 * the emulator's clock, and the connection-level faults of the control API (drop now, drop every
 * N seconds, reset right after a sign-in).
 *
 * @see https://learn.microsoft.com/exchange/clients-and-mobile-in-exchange-online/pop3-and-imap4/pop3-and-imap4
 * @see ../../../shared/reference/microsoft-protocols.md §7 (connection cap: default 16)
 */
import type net from 'node:net';
import tls from 'node:tls';
import type { ExchangeAccess } from '../exchange/access.js';
import { BasicAuthSettings } from '../exchange/basic-auth.js';
import type { ExchangeClock } from '../exchange/exchange-clock.js';
import type { ExchangeFaults } from '../exchange/faults.js';
import { ImapRenderingSettings } from '../exchange/imap-rendering.js';
import type { MailStore } from '../exchange/mail-store.js';
import { ImapSession, type ImapServerContext } from './session.js';

export interface ImapServerOptions {
  readonly store: MailStore;
  readonly access: ExchangeAccess;
  readonly clock: ExchangeClock;
  readonly faults: ExchangeFaults;
  /** Re-rendered MIME and RFC822.SIZE per mailbox; default: stored bytes, estimated sizes. */
  readonly rendering?: ImapRenderingSettings;
  /** PEM key and certificate the server presents (the emulator's loopback certificate). */
  readonly tls: { readonly key: string | Buffer; readonly cert: string | Buffer };
  readonly host?: string;
  readonly port?: number;
  /** Sessions allowed per mailbox; the next one is "authenticated but not connected". Default 16. */
  readonly maxConnectionsPerMailbox?: number;
  /** Inactivity before `* BYE Connection is closed. 13`. Default 30 minutes. */
  readonly idleTimeoutMs?: number;
  /** How often (real time) sessions are checked for expired tokens. Default 1 s. */
  readonly expirySweepMs?: number;
  /** The backend server name the greeting carries. */
  readonly backendFqdn?: string;
  /** Whether `LOGIN` / `AUTHENTICATE PLAIN` take passwords (read at each attempt). Default: off, as Exchange Online. */
  readonly basicAuth?: BasicAuthSettings;
}

export class ImapServer {
  private readonly server: tls.Server;
  private readonly sessions = new Set<ImapSession>();
  private readonly byMailbox = new Map<string, Set<ImapSession>>();
  /** The TCP sockets under the TLS ones, by client address: a reset (RST) is sent on the TCP socket. */
  private readonly tcpSockets = new Map<string, net.Socket>();
  private readonly context: ImapServerContext;
  private readonly maxPerMailbox: number;
  private sweepTimer: NodeJS.Timeout | undefined;
  private dropTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ImapServerOptions) {
    this.maxPerMailbox = options.maxConnectionsPerMailbox ?? 16;
    this.context = {
      store: options.store,
      access: options.access,
      clock: options.clock,
      faults: options.faults,
      rendering: options.rendering ?? new ImapRenderingSettings(),
      basicAuth: options.basicAuth ?? new BasicAuthSettings(),
      backendFqdn: options.backendFqdn ?? 'AM0PR02MB5555.eurprd02.prod.outlook.com',
      idleTimeoutMs: options.idleTimeoutMs ?? 30 * 60_000,
      attach: (session, mailbox) => this.attach(session, mailbox),
      detach: (session) => this.detach(session),
    };
    this.server = tls.createServer(
      { key: options.tls.key, cert: options.tls.cert, minVersion: 'TLSv1.2' },
      (socket) => {
        socket.setNoDelay(true);
        const tcp = this.tcpSockets.get(`${socket.remoteAddress}:${socket.remotePort}`);
        const session = new ImapSession(socket, this.context, () =>
          tcp === undefined ? socket.destroy() : tcp.resetAndDestroy(),
        );
        this.sessions.add(session);
        socket.once('close', () => this.sessions.delete(session));
        session.start();
      },
    );
    this.server.on('connection', (tcp: net.Socket) => {
      const key = `${tcp.remoteAddress}:${tcp.remotePort}`;
      this.tcpSockets.set(key, tcp);
      tcp.once('close', () => this.tcpSockets.delete(key));
    });
    // A client that fails the handshake is its own problem; the server keeps serving.
    this.server.on('tlsClientError', () => undefined);
  }

  /** Starts listening; resolves with the bound address. */
  async listen(): Promise<{ host: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const sweep = this.options.expirySweepMs ?? 1000;
    this.sweepTimer = setInterval(() => void this.sweepExpired(), sweep);
    this.sweepTimer.unref();
    return this.address;
  }

  get address(): { host: string; port: number } {
    const info = this.server.address();
    if (info === null || typeof info === 'string') throw new Error('IMAP server is not listening');
    return { host: info.address, port: info.port };
  }

  /** Open connections, or those of one mailbox. */
  connectionCount(mailbox?: string): number {
    return mailbox === undefined ? this.sessions.size : (this.byMailbox.get(mailbox.toLowerCase())?.size ?? 0);
  }

  /** Ends sessions whose token has expired with `* BYE Session invalidated - AccessTokenExpired`. */
  async sweepExpired(): Promise<number> {
    let ended = 0;
    for (const session of [...this.sessions]) if (await session.expireIfDue()) ended += 1;
    return ended;
  }

  /** Drops connections (all, or one mailbox's) without a BYE, as a network failure would. */
  dropConnections(mailbox?: string): number {
    const targets = mailbox === undefined ? [...this.sessions] : [...(this.byMailbox.get(mailbox.toLowerCase()) ?? [])];
    for (const session of targets) session.destroy();
    return targets.length;
  }

  /** Drops every connection each `seconds` (real time); `null` stops. */
  dropEvery(seconds: number | null): void {
    if (this.dropTimer) clearInterval(this.dropTimer);
    this.dropTimer = undefined;
    if (seconds === null) return;
    this.dropTimer = setInterval(() => this.dropConnections(), seconds * 1000);
    this.dropTimer.unref();
  }

  get dropInterval(): boolean {
    return this.dropTimer !== undefined;
  }

  async close(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.dropEvery(null);
    for (const session of this.sessions) session.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private attach(session: ImapSession, mailbox: string): boolean {
    const key = mailbox.toLowerCase();
    let set = this.byMailbox.get(key);
    if (!set) {
      set = new Set();
      this.byMailbox.set(key, set);
    }
    if (set.size >= this.maxPerMailbox) return false;
    set.add(session);
    return true;
  }

  private detach(session: ImapSession): void {
    if (session.mailbox === undefined) return;
    const set = this.byMailbox.get(session.mailbox.toLowerCase());
    set?.delete(session);
    if (set?.size === 0) this.byMailbox.delete(session.mailbox.toLowerCase());
  }
}
