/**
 * The Exchange Online half of the emulator, assembled: the mail store (in memory, or persisted in
 * `<dataDir>/exchange`), mail flow, faults, the basic-authentication switch (off, as in Exchange
 * Online), the IMAP server and the SMTP submission server. The
 * emulator's entry point creates it with the identity half's access decisions, clock and TLS
 * certificate, starts it, and registers `exchangeControlRoutes(service)` on its control API.
 */
import { join } from 'node:path';
import { ImapServer, type ImapServerOptions } from '../imap/server.js';
import { SubmissionLimits, type SubmissionLimitOptions } from '../smtp/submission-limits.js';
import { SubmissionServer } from '../smtp/submission-server.js';
import type { ExchangeAccess } from './access.js';
import { BasicAuthSettings, type BasicAuthState } from './basic-auth.js';
import type { ExchangeClock } from './exchange-clock.js';
import { ExchangeFaults } from './faults.js';
import { ImapRenderingSettings } from './imap-rendering.js';
import { MailRouter } from './mail-router.js';
import { MailStore } from './mail-store.js';
import { MailboxSendSizeLimits } from './send-size-limits.js';
import { FileStoreJournal } from './store-journal.js';

export interface ExchangeServiceOptions {
  readonly access: ExchangeAccess;
  readonly clock: ExchangeClock;
  /** PEM key and certificate for loopback TLS (the emulator's server certificate). */
  readonly tls: { readonly key: string | Buffer; readonly cert: string | Buffer };
  /** Persist the mail store under `<dataDir>/exchange`; memory only when absent. */
  readonly dataDir?: string;
  readonly host?: string;
  readonly imap?: Pick<
    ImapServerOptions,
    'port' | 'maxConnectionsPerMailbox' | 'idleTimeoutMs' | 'expirySweepMs' | 'backendFqdn'
  >;
  readonly smtp?: {
    readonly port?: number;
    readonly hostname?: string;
    readonly limits?: SubmissionLimitOptions;
    readonly maxRecipients?: number;
  };
  /** Basic authentication (passwords) at start; both off by default, as in Exchange Online. */
  readonly basicAuth?: Partial<BasicAuthState>;
  /** The initial domain of the tenant owning an address's domain (for non-delivery reports). */
  readonly tenantDomainOf?: (address: string) => string | undefined;
}

export interface ExchangeEndpoints {
  readonly imap: { readonly host: string; readonly port: number };
  readonly smtp: { readonly host: string; readonly port: number };
}

export class ExchangeService {
  readonly store: MailStore;
  readonly router: MailRouter;
  readonly faults = new ExchangeFaults();
  /** `Set-Mailbox -MaxSendSize` per mailbox (SMTP after DATA, Graph sendMail). */
  readonly sendSize = new MailboxSendSizeLimits();
  /** IMAP: re-rendered MIME and estimated / exact RFC822.SIZE per mailbox (`Set-CASMailbox -ImapEnableExactRFC822Size`). */
  readonly imapRendering = new ImapRenderingSettings();
  readonly basicAuth: BasicAuthSettings;
  readonly imap: ImapServer;
  readonly smtp: SubmissionServer;
  readonly clock: ExchangeClock;

  constructor(options: ExchangeServiceOptions) {
    this.clock = options.clock;
    this.basicAuth = new BasicAuthSettings(options.basicAuth);
    const journal = options.dataDir === undefined ? undefined : new FileStoreJournal(join(options.dataDir, 'exchange'));
    this.store = new MailStore({ clock: options.clock, journal });
    this.router = new MailRouter({
      store: this.store,
      clock: options.clock,
      resolveMailbox: (address) => options.access.resolveMailbox(address),
      ...(options.tenantDomainOf === undefined ? {} : { tenantDomainOf: options.tenantDomainOf }),
    });
    this.imap = new ImapServer({
      ...options.imap,
      host: options.host,
      store: this.store,
      access: options.access,
      clock: options.clock,
      faults: this.faults,
      rendering: this.imapRendering,
      basicAuth: this.basicAuth,
      tls: options.tls,
    });
    this.smtp = new SubmissionServer({
      router: this.router,
      access: options.access,
      clock: options.clock,
      faults: this.faults,
      basicAuth: this.basicAuth,
      tls: options.tls,
      host: options.host,
      port: options.smtp?.port,
      hostname: options.smtp?.hostname,
      maxRecipients: options.smtp?.maxRecipients,
      limits: new SubmissionLimits(options.clock, options.smtp?.limits),
      sendSize: this.sendSize,
    });
  }

  async start(): Promise<ExchangeEndpoints> {
    const imap = await this.imap.listen();
    const smtp = await this.smtp.listen();
    return { imap, smtp };
  }

  get endpoints(): ExchangeEndpoints {
    return { imap: this.imap.address, smtp: this.smtp.address };
  }

  /**
   * Applies the emulator clock's new time: ends IMAP sessions whose token expired and releases
   * rate-delayed deliveries that are now due. Call after moving the clock.
   */
  async onClockChanged(): Promise<{ sessionsEnded: number; deliveriesReleased: number }> {
    const sessionsEnded = await this.imap.sweepExpired();
    const deliveriesReleased = this.smtp.queue.flushDue();
    return { sessionsEnded, deliveriesReleased };
  }

  async stop(): Promise<void> {
    await Promise.all([this.imap.close(), this.smtp.close()]);
  }
}
