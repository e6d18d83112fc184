/**
 * A test implementation of the identity side the Exchange servers depend on: opaque bearer tokens
 * mapped to token facts, mailboxes with their delegations, and users' passwords (for basic
 * authentication) — fed to the same access policy the real directory uses.
 */
import { randomUUID } from 'node:crypto';
import type { ExchangeAccess } from '../../../emulator/exchange/access.js';
import {
  createExchangeAccess,
  type MailboxFacts,
  type TokenFacts,
  type UserFacts,
} from '../../../emulator/exchange/access-policy.js';
import type { ExchangeClock } from '../../../emulator/exchange/exchange-clock.js';

const TENANT_ID = '4b2e3c1d-0000-4000-8000-00000000c0de';

export interface MutableMailbox {
  address: string;
  kind: 'user' | 'shared';
  ownerUserId?: string;
  fullAccess: string[];
  sendAs: string[];
  imapEnabled: boolean;
  smtpAuthEnabled: boolean | null;
  aliases: string[];
}

export class FakeTenant {
  readonly tokens = new Map<string, TokenFacts>();
  readonly mailboxes = new Map<string, MutableMailbox>();
  readonly users = new Map<string, string>();
  /** Passwords by user object id. */
  readonly passwords = new Map<string, string>();
  tenantSmtpAuthEnabled = true;
  /** Apps whose service principal Exchange does not know (every other app is registered rightly). */
  readonly unregisteredApps = new Set<string>();
  readonly access: ExchangeAccess;

  constructor(private readonly clock: ExchangeClock) {
    this.access = createExchangeAccess(
      {
        introspect: async (token) => this.tokens.get(token),
        findMailbox: (address) => this.find(address),
        findUserByUpn: (upn) => this.findUser(this.users.get(upn.toLowerCase())),
        findUserById: (id) => this.findUser(id),
        checkPassword: (userId, password) => this.passwords.get(userId) === password,
        exchangeServicePrincipal: (_tenantId, appId) =>
          this.unregisteredApps.has(appId) ? undefined : { objectId: `sp-${appId}` },
      },
      clock,
    );
  }

  /** A user with their own mailbox (and a password for basic authentication); returns the user's object id. */
  addUser(address: string, password = `${address}#password`): string {
    const id = randomUUID();
    this.users.set(address.toLowerCase(), id);
    this.passwords.set(id, password);
    this.mailboxes.set(address.toLowerCase(), {
      address: address.toLowerCase(),
      kind: 'user',
      ownerUserId: id,
      fullAccess: [],
      sendAs: [],
      imapEnabled: true,
      smtpAuthEnabled: null,
      aliases: [],
    });
    return id;
  }

  addSharedMailbox(address: string): MutableMailbox {
    const mailbox: MutableMailbox = {
      address: address.toLowerCase(),
      kind: 'shared',
      fullAccess: [],
      sendAs: [],
      imapEnabled: true,
      smtpAuthEnabled: null,
      aliases: [],
    };
    this.mailboxes.set(address.toLowerCase(), mailbox);
    return mailbox;
  }

  mailbox(address: string): MutableMailbox {
    const found = this.mailboxes.get(address.toLowerCase());
    if (!found) throw new Error(`no mailbox ${address}`);
    return found;
  }

  userId(address: string): string {
    const id = this.users.get(address.toLowerCase());
    if (!id) throw new Error(`no user ${address}`);
    return id;
  }

  /** A delegated Exchange token for a user. */
  userToken(address: string, options: { scopes?: string[]; ttlMs?: number; audience?: string } = {}): string {
    const token = `tok-${randomUUID()}`;
    this.tokens.set(token, {
      audience: options.audience ?? 'https://outlook.office.com',
      scopes: options.scopes ?? ['IMAP.AccessAsUser.All', 'SMTP.Send'],
      roles: [],
      tenantId: TENANT_ID,
      appId: 'app-client-id',
      userId: this.userId(address),
      upn: address.toLowerCase(),
      expiresAt: this.clock.now() + (options.ttlMs ?? 3_600_000),
    });
    return token;
  }

  /** An app-only Exchange token with roles. */
  appToken(appId: string, roles: string[], ttlMs = 3_600_000): string {
    const token = `app-${randomUUID()}`;
    this.tokens.set(token, {
      audience: 'https://outlook.office365.com',
      scopes: [],
      roles,
      tenantId: TENANT_ID,
      appId,
      servicePrincipalId: `sp-${appId}`,
      expiresAt: this.clock.now() + ttlMs,
    });
    return token;
  }

  private findUser(id: string | undefined): UserFacts | undefined {
    const upn = [...this.users].find(([, userId]) => userId === id)?.[0];
    if (id === undefined || upn === undefined) return undefined;
    return { id, tenantId: TENANT_ID, upn, enabled: true, mailbox: upn };
  }

  private find(address: string): MailboxFacts | undefined {
    const key = address.toLowerCase();
    const mailbox = this.mailboxes.get(key) ?? [...this.mailboxes.values()].find((m) => m.aliases.includes(key));
    if (!mailbox) return undefined;
    return { ...mailbox, tenantId: TENANT_ID, tenantSmtpAuthEnabled: this.tenantSmtpAuthEnabled };
  }
}

/** A clock tests move by hand. */
export class ManualClock implements ExchangeClock {
  constructor(private current = Date.UTC(2025, 0, 15, 9, 0, 0)) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}
