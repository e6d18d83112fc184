/**
 * The emulator's directory state: tenants, users, app registrations, consents and Exchange
 * mailboxes, held in memory, loaded from a seed and changed through the control API. Every
 * change emits a `change` event ({@link DirectoryChange}) so that the IMAP/SMTP servers can react
 * (close a disabled user's sessions, re-check a mailbox permission).
 *
 * Lookups are case-insensitive and return live objects typed `Readonly`: read them, never change
 * them; call a method instead.
 *
 * @see https://learn.microsoft.com/entra/identity/users/users-revoke-access
 * @see https://learn.microsoft.com/exchange/clients-and-mobile-in-exchange-online/authenticated-client-smtp-submission
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Clock } from '../clock.js';
import { EmulatorError } from '../errors.js';
import type {
  ApplicationRoleAssignment,
  AppRegistration,
  Consent,
  DirectoryChange,
  DirectoryEvents,
  ExchangeServicePrincipal,
  Mailbox,
  Tenant,
  User,
} from './model.js';
import { seedSchema, tenantSeedSchema, type Seed } from './schema.js';
import { convertTenant, exportTenant, type TenantState } from './seed-convert.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Something that belongs to a tenant, or a tenant id / domain. */
export type TenantRef = string | { readonly tenantId: string };

/**
 * In-memory directory state with its lookups and seed loading. The mutating methods are on the
 * subclass {@link Directory} (`directory.ts`); all of them emit `change`.
 */
export class DirectoryStore extends EventEmitter<DirectoryEvents> {
  protected tenants = new Map<string, Tenant>();
  protected users = new Map<string, User>();
  protected apps = new Map<string, AppRegistration>();
  protected consents: Consent[] = [];
  protected mailboxes = new Map<string, Mailbox>();
  readonly clock: Clock;

  constructor(clock: Clock, seed?: unknown) {
    super();
    this.clock = clock;
    if (seed !== undefined) this.load(seed);
  }

  // ── lookups ────────────────────────────────────────────────────────────────────────────────

  /** All tenants. */
  listTenants(): readonly Readonly<Tenant>[] {
    return [...this.tenants.values()];
  }

  /** A tenant by GUID or by one of its domains. */
  findTenant(idOrDomain: string): Readonly<Tenant> | undefined {
    const key = idOrDomain.toLowerCase();
    if (GUID.test(key)) return this.tenants.get(key);
    for (const t of this.tenants.values()) if (t.domains.includes(key)) return t;
    return undefined;
  }

  /** The tenant of a user, mailbox, app or consent, or of a tenant id / domain / e-mail address. */
  tenantOf(ref: TenantRef): Readonly<Tenant> | undefined {
    if (typeof ref !== 'string') return this.tenants.get(ref.tenantId);
    const at = ref.lastIndexOf('@');
    return this.findTenant(at === -1 ? ref : ref.slice(at + 1));
  }

  /** A user by object id. */
  findUserById(oid: string): Readonly<User> | undefined {
    return this.users.get(oid.toLowerCase());
  }

  /** A user by user principal name (case-insensitive). */
  findUserByUpn(upn: string): Readonly<User> | undefined {
    const key = upn.toLowerCase();
    for (const u of this.users.values()) if (u.userPrincipalName === key) return u;
    return undefined;
  }

  /**
   * Whether `password` is the user's password (IMAP/SMTP basic authentication). Compared as
   * SHA-256 digests in constant time, so that neither length nor content leaks through timing.
   */
  checkPassword(userId: string, password: string): boolean {
    const user = this.findUserById(userId);
    if (user === undefined) return false;
    const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();
    return timingSafeEqual(digest(user.password), digest(password));
  }

  /** Users, of one tenant or all. */
  listUsers(tenantId?: string): readonly Readonly<User>[] {
    return [...this.users.values()].filter((u) => tenantId === undefined || u.tenantId === tenantId.toLowerCase());
  }

  /** An app registration by application (client) id. */
  findApp(appId: string): Readonly<AppRegistration> | undefined {
    return this.apps.get(appId.toLowerCase());
  }

  /** App registrations, of one home tenant or all. */
  listApps(tenantId?: string): readonly Readonly<AppRegistration>[] {
    return [...this.apps.values()].filter((a) => tenantId === undefined || a.tenantId === tenantId.toLowerCase());
  }

  /** A mailbox by primary address or alias (case-insensitive). */
  findMailbox(address: string): Readonly<Mailbox> | undefined {
    const key = address.toLowerCase();
    const direct = this.mailboxes.get(key);
    if (direct !== undefined) return direct;
    for (const m of this.mailboxes.values()) if (m.aliases.includes(key)) return m;
    return undefined;
  }

  /** Mailboxes, of one tenant or all. */
  listMailboxes(tenantId?: string): readonly Readonly<Mailbox>[] {
    return [...this.mailboxes.values()].filter((m) => tenantId === undefined || m.tenantId === tenantId.toLowerCase());
  }

  /** A user's own mailbox. */
  mailboxOfUser(userId: string): Readonly<Mailbox> | undefined {
    const key = userId.toLowerCase();
    for (const m of this.mailboxes.values()) if (m.kind === 'user' && m.ownerUserId === key) return m;
    return undefined;
  }

  /** Whether SMTP AUTH is on for this mailbox: its own setting, else the tenant default. */
  smtpAuthEnabledFor(mailbox: Readonly<Mailbox>): boolean {
    if (mailbox.smtpAuthEnabled !== null) return mailbox.smtpAuthEnabled;
    const tenant = this.tenants.get(mailbox.tenantId);
    return tenant === undefined ? false : !tenant.smtpAuthDisabledByDefault;
  }

  /** Whether `userId` may open `mailbox` (owner or FullAccess). */
  hasFullAccess(userId: string, mailbox: Readonly<Mailbox>): boolean {
    const key = userId.toLowerCase();
    return mailbox.ownerUserId === key || mailbox.fullAccess.includes(key);
  }

  /** Whether `userId` may send as `mailbox` (owner or Send As). */
  hasSendAs(userId: string, mailbox: Readonly<Mailbox>): boolean {
    const key = userId.toLowerCase();
    return mailbox.ownerUserId === key || mailbox.sendAs.includes(key);
  }

  /** Consent records of an app in a tenant (user and admin). */
  consentsFor(tenantId: string, appId: string): readonly Readonly<Consent>[] {
    const t = tenantId.toLowerCase();
    const a = appId.toLowerCase();
    return this.consents.filter((c) => c.tenantId === t && c.appId === a);
  }

  /** Delegated scopes `userId` may use with `appId`: admin consent plus the user's own. */
  consentedScopes(tenantId: string, appId: string, userId: string): Set<string> {
    const out = new Set<string>();
    for (const c of this.consentsFor(tenantId, appId)) {
      if (c.userId === null || c.userId === userId.toLowerCase()) for (const s of c.scopes) out.add(s);
    }
    return out;
  }

  /** Application roles admin-consented for `appId` in a tenant. */
  consentedRoles(tenantId: string, appId: string): Set<string> {
    const out = new Set<string>();
    for (const c of this.consentsFor(tenantId, appId)) if (c.userId === null) for (const r of c.roles) out.add(r);
    return out;
  }

  /** Whether the app has a service principal in the tenant (home tenant, or consented there). */
  isAppInTenant(tenantId: string, appId: string): boolean {
    const app = this.findApp(appId);
    if (app === undefined) return false;
    return app.tenantId === tenantId.toLowerCase() || this.consentsFor(tenantId, appId).length > 0;
  }

  /** The service principal Exchange Online holds for an app in a tenant (`Get-ServicePrincipal`). */
  exchangeServicePrincipal(tenantId: string, appId: string): Readonly<ExchangeServicePrincipal> | undefined {
    const tenant = this.tenants.get(tenantId.toLowerCase());
    return tenant?.exchangeServicePrincipals.find((sp) => sp.appId === appId.toLowerCase());
  }

  /**
   * Whether an app's Graph application permissions reach a mailbox under the tenant's application
   * access policies: a DenyAccess policy whose scope holds it refuses; RestrictAccess policies,
   * when the app has any, allow only the mailboxes in their scopes; no policy allows every mailbox.
   *
   * @see https://learn.microsoft.com/graph/auth-limit-mailbox-access
   */
  appMayAccessMailbox(tenantId: string, appId: string, address: string): boolean {
    const tenant = this.tenants.get(tenantId.toLowerCase());
    const policies = tenant?.applicationAccessPolicies.filter((p) => p.appId === appId.toLowerCase()) ?? [];
    const key = address.toLowerCase();
    if (policies.some((p) => p.accessRight === 'DenyAccess' && p.mailboxes.includes(key))) return false;
    const restrict = policies.filter((p) => p.accessRight === 'RestrictAccess');
    return restrict.length === 0 || restrict.some((p) => p.mailboxes.includes(key));
  }

  /** The tenant's management role assignments to apps (RBAC for Applications), `Get-ManagementRoleAssignment`. */
  applicationRoleAssignments(tenantId: string): readonly Readonly<ApplicationRoleAssignment>[] {
    return this.tenants.get(tenantId.toLowerCase())?.applicationRoleAssignments ?? [];
  }

  /** Subscribes to changes; returns the unsubscribe function. */
  onChange(listener: (change: DirectoryChange) => void): () => void {
    this.on('change', listener);
    return () => this.off('change', listener);
  }

  /** The whole directory in the seed format (loadable again). */
  exportSeed(): Seed {
    return { tenants: [...this.tenants.keys()].map((id) => exportTenant(this.stateOf(id))) };
  }

  // ── loading ────────────────────────────────────────────────────────────────────────────────

  /** Replaces everything with the seed (validated with zod). */
  load(input: unknown): void {
    const seed = parseOrThrow(seedSchema, input, 'seed');
    const states = seed.tenants.map((t) => convertTenant(t, this.clock.now()));
    this.#checkUnique(states, true);
    this.tenants.clear();
    this.users.clear();
    this.apps.clear();
    this.mailboxes.clear();
    this.consents = [];
    for (const s of states) this.#insert(s);
    this.emit('change', { type: 'seed-replaced' });
  }

  /** Adds a tenant from a tenant seed. */
  addTenant(input: unknown): Readonly<Tenant> {
    const seed = parseOrThrow(tenantSeedSchema, input, 'tenant');
    const state = convertTenant(seed, this.clock.now());
    this.#checkUnique([state], false);
    this.#insert(state);
    this.emit('change', { type: 'tenant-added', tenantId: state.tenant.id });
    return state.tenant;
  }

  protected stateOf(tenantId: string): TenantState {
    const tenant = this.tenants.get(tenantId);
    if (tenant === undefined) throw new EmulatorError('not-found', `tenant ${tenantId} not found`);
    return {
      tenant,
      users: this.listUsers(tenantId).map((u) => ({ ...u })),
      apps: this.listApps(tenantId).map((a) => ({ ...a })),
      consents: this.consents.filter((c) => c.tenantId === tenantId),
      mailboxes: this.listMailboxes(tenantId).map((m) => ({ ...m })),
    };
  }

  #insert(state: TenantState): void {
    this.tenants.set(state.tenant.id, state.tenant);
    for (const u of state.users) this.users.set(u.id, u);
    for (const a of state.apps) this.apps.set(a.appId, a);
    for (const m of state.mailboxes) this.mailboxes.set(m.address, m);
    this.consents.push(...state.consents);
  }

  #checkUnique(states: TenantState[], replacing: boolean): void {
    const seen = new Set<string>();
    const claim = (key: string, what: string): void => {
      if (seen.has(key)) throw new EmulatorError('conflict', `${what} appears twice`);
      seen.add(key);
    };
    if (!replacing) {
      for (const t of this.tenants.values()) {
        claim(`t:${t.id}`, `tenant ${t.id}`);
        for (const d of t.domains) claim(`d:${d}`, `domain ${d}`);
      }
      for (const u of this.users.values()) {
        claim(`u:${u.id}`, `user ${u.id}`);
        claim(`upn:${u.userPrincipalName}`, `UPN ${u.userPrincipalName}`);
      }
      for (const a of this.apps.values()) claim(`a:${a.appId}`, `app ${a.appId}`);
      for (const m of this.mailboxes.values())
        for (const addr of [m.address, ...m.aliases]) claim(`m:${addr}`, `address ${addr}`);
    }
    for (const s of states) {
      claim(`t:${s.tenant.id}`, `tenant ${s.tenant.id}`);
      for (const d of s.tenant.domains) claim(`d:${d}`, `domain ${d}`);
      for (const u of s.users) {
        claim(`u:${u.id}`, `user ${u.id}`);
        claim(`upn:${u.userPrincipalName}`, `UPN ${u.userPrincipalName}`);
      }
      for (const a of s.apps) claim(`a:${a.appId}`, `app ${a.appId}`);
      for (const m of s.mailboxes) for (const addr of [m.address, ...m.aliases]) claim(`m:${addr}`, `address ${addr}`);
    }
  }
}

/** Parses with a zod schema, turning failures into one readable `invalid` error. */
export function parseOrThrow<T>(
  schema: {
    safeParse(
      input: unknown,
    ):
      | { success: true; data: T }
      | { success: false; error: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> } };
  },
  input: unknown,
  what: string,
): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
  throw new EmulatorError('invalid', `invalid ${what}: ${problems.join('; ')}`);
}
