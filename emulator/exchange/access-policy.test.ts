import { describe, expect, it } from 'vitest';
import { createExchangeAccess, type MailboxFacts, type TokenFacts, type UserFacts } from './access-policy.js';
import { appRbacGrants, type AppRoleAssignment } from './app-rbac.js';

const NOW = Date.UTC(2025, 0, 15);
const TENANT = 'tenant-1';
const ANDREA = 'oid-andrea';
const DAEMON = 'app-daemon';
/** The daemon's Enterprise application object id (its tokens' `oid`). */
const DAEMON_SP = 'sp-daemon';
/** Exchange's service principal registrations, by app id (New-ServicePrincipal). */
const registered: Record<string, { objectId: string }> = { [DAEMON]: { objectId: DAEMON_SP } };
/** RBAC for Applications: the daemon may submit as andrea@ (and only andrea@) without SMTP.SendAsApp in its token. */
const assignments: AppRoleAssignment[] = [
  { appId: DAEMON, role: 'Application SMTP.SendAsApp', mailboxes: ['andrea@contoso.com'] },
];

const mailboxes: Record<string, MailboxFacts> = {
  'andrea@contoso.com': {
    address: 'andrea@contoso.com',
    tenantId: TENANT,
    kind: 'user',
    ownerUserId: ANDREA,
    fullAccess: [],
    sendAs: [],
    imapEnabled: true,
    smtpAuthEnabled: null,
    tenantSmtpAuthEnabled: true,
  },
  'developers@contoso.com': {
    address: 'developers@contoso.com',
    tenantId: TENANT,
    kind: 'shared',
    fullAccess: [ANDREA, DAEMON],
    sendAs: [ANDREA],
    imapEnabled: true,
    smtpAuthEnabled: null,
    tenantSmtpAuthEnabled: true,
  },
  'ops@contoso.com': {
    address: 'ops@contoso.com',
    tenantId: TENANT,
    kind: 'shared',
    fullAccess: [],
    sendAs: [],
    imapEnabled: true,
    smtpAuthEnabled: null,
    tenantSmtpAuthEnabled: true,
  },
};
const aliases: Record<string, string> = {
  'dev@contoso.com': 'developers@contoso.com',
  'a.rossi@contoso.com': 'andrea@contoso.com',
};

const MARCO = 'oid-marco';
const ADMIN = 'oid-admin';
/** Andrea's UPN differs from her mailbox address, so that both spellings of a login are covered. */
const users: Record<string, UserFacts & { password: string }> = {
  [ANDREA]: {
    id: ANDREA,
    tenantId: TENANT,
    upn: 'andrea@contoso.onmicrosoft.com',
    enabled: true,
    mailbox: 'andrea@contoso.com',
    password: 'Andrea#2025',
  },
  [MARCO]: { id: MARCO, tenantId: TENANT, upn: 'marco@contoso.com', enabled: false, password: 'Marco#2025' },
  [ADMIN]: { id: ADMIN, tenantId: TENANT, upn: 'admin@contoso.com', enabled: true, password: 'Admin#2025' },
};

function access(tokens: Record<string, TokenFacts>) {
  return createExchangeAccess(
    {
      introspect: async (token) => tokens[token],
      findMailbox: (address) => mailboxes[aliases[address.toLowerCase()] ?? address.toLowerCase()],
      findUserByUpn: (upn) => Object.values(users).find((u) => u.upn === upn.toLowerCase()),
      findUserById: (id) => users[id],
      checkPassword: (userId, password) => users[userId]?.password === password,
      exchangeServicePrincipal: (_tenantId, appId) => registered[appId],
      appRbacGrants: (_tenantId, appId, permission, mailbox) =>
        appRbacGrants(assignments, appId, [permission], mailbox),
    },
    { now: () => NOW },
  );
}

const delegated = (scopes: string[], overrides: Partial<TokenFacts> = {}): TokenFacts => ({
  audience: 'exchange',
  scopes,
  roles: [],
  tenantId: TENANT,
  appId: 'web',
  userId: ANDREA,
  upn: 'andrea@contoso.com',
  expiresAt: NOW + 3_600_000,
  ...overrides,
});

describe('IMAP authorization', () => {
  const a = access({
    good: delegated(['IMAP.AccessAsUser.All']),
    prefixed: delegated(['https://outlook.office.com/IMAP.AccessAsUser.All']),
    smtpOnly: delegated(['SMTP.Send']),
    graph: delegated(['IMAP.AccessAsUser.All'], { audience: 'graph' }),
    expired: delegated(['IMAP.AccessAsUser.All'], { expiresAt: NOW }),
    otherTenant: delegated(['IMAP.AccessAsUser.All'], { tenantId: 'tenant-2' }),
    app: {
      audience: 'exchange',
      scopes: [],
      roles: ['IMAP.AccessAsApp'],
      tenantId: TENANT,
      appId: DAEMON,
      servicePrincipalId: DAEMON_SP,
      expiresAt: NOW + 1000,
    },
  });

  it('connects the owner, with either scope spelling, and a delegate with FullAccess (also by alias)', async () => {
    expect(await a.authorizeImap({ user: 'andrea@contoso.com', token: 'good' })).toMatchObject({
      outcome: 'connected',
      mailbox: 'andrea@contoso.com',
    });
    expect(await a.authorizeImap({ user: 'andrea@contoso.com', token: 'prefixed' })).toMatchObject({
      outcome: 'connected',
    });
    expect(await a.authorizeImap({ user: 'dev@contoso.com', token: 'good' })).toMatchObject({
      outcome: 'connected',
      mailbox: 'developers@contoso.com',
    });
    expect(await a.authorizeImap({ user: 'developers@contoso.com', token: 'app' })).toMatchObject({
      outcome: 'connected',
      principal: { kind: 'app' },
    });
  });

  it('refuses bad tokens and unknown mailboxes; authenticates but does not connect without access', async () => {
    for (const token of ['nope', 'smtpOnly', 'graph', 'expired', 'otherTenant']) {
      expect((await a.authorizeImap({ user: 'andrea@contoso.com', token })).outcome).toBe('refused');
    }
    expect((await a.authorizeImap({ user: 'ghost@contoso.com', token: 'good' })).outcome).toBe('refused');
    expect((await a.authorizeImap({ user: 'ops@contoso.com', token: 'good' })).outcome).toBe('not-connected');
    expect((await a.authorizeImap({ user: 'andrea@contoso.com', token: 'app' })).outcome).toBe('not-connected');
  });

  it('refuses an app whose service principal is missing in Exchange or registered with another object id (NO AUTHENTICATE failed.)', async () => {
    const right = registered[DAEMON];
    try {
      registered[DAEMON] = { objectId: 'app-registration-object-id' };
      const wrong = await a.authorizeImap({ user: 'developers@contoso.com', token: 'app' });
      expect(wrong).toMatchObject({ outcome: 'refused' });
      expect(wrong.outcome === 'refused' && wrong.reason).toMatch(
        /registered with object id app-registration-object-id/,
      );
      delete registered[DAEMON];
      const missing = await a.authorizeImap({ user: 'developers@contoso.com', token: 'app' });
      expect(missing.outcome === 'refused' && missing.reason).toMatch(/no service principal/);
      expect((await a.authorizeSmtp({ user: 'developers@contoso.com', token: 'app' })).outcome).toBe('refused');
    } finally {
      if (right !== undefined) registered[DAEMON] = right;
    }
    expect((await a.authorizeImap({ user: 'developers@contoso.com', token: 'app' })).outcome).toBe('connected');
  });
});

describe('SMTP authorization and Send As', () => {
  const a = access({
    good: delegated(['SMTP.Send']),
    imapOnly: delegated(['IMAP.AccessAsUser.All']),
    app: {
      audience: 'exchange',
      scopes: [],
      roles: ['SMTP.SendAsApp'],
      tenantId: TENANT,
      appId: DAEMON,
      servicePrincipalId: DAEMON_SP,
      expiresAt: NOW + 1000,
    },
  });

  it('authenticates only the token user as login; a shared mailbox login is refused', async () => {
    expect(await a.authorizeSmtp({ user: 'andrea@contoso.com', token: 'good' })).toMatchObject({
      outcome: 'authenticated',
      mailbox: 'andrea@contoso.com',
    });
    expect((await a.authorizeSmtp({ user: 'developers@contoso.com', token: 'good' })).outcome).toBe('refused');
    expect((await a.authorizeSmtp({ user: 'andrea@contoso.com', token: 'imapOnly' })).outcome).toBe('refused');
  });

  it('honours SMTP AUTH settings: mailbox first, then the tenant default', async () => {
    const box = mailboxes['andrea@contoso.com'] as MailboxFacts;
    mailboxes['andrea@contoso.com'] = { ...box, smtpAuthEnabled: false };
    expect(await a.authorizeSmtp({ user: 'andrea@contoso.com', token: 'good' })).toEqual({
      outcome: 'smtp-auth-disabled',
      scope: 'mailbox',
    });
    mailboxes['andrea@contoso.com'] = { ...box, tenantSmtpAuthEnabled: false };
    expect(await a.authorizeSmtp({ user: 'andrea@contoso.com', token: 'good' })).toEqual({
      outcome: 'smtp-auth-disabled',
      scope: 'tenant',
    });
    mailboxes['andrea@contoso.com'] = { ...box, smtpAuthEnabled: true, tenantSmtpAuthEnabled: false };
    expect((await a.authorizeSmtp({ user: 'andrea@contoso.com', token: 'good' })).outcome).toBe('authenticated');
    mailboxes['andrea@contoso.com'] = box;
  });

  it('allows sending as oneself and as a mailbox with Send As only', () => {
    const identity = {
      mailbox: 'andrea@contoso.com',
      principal: { kind: 'user' as const, id: ANDREA, tenantId: TENANT, name: 'andrea@contoso.com' },
    };
    expect(a.checkSendAs(identity, 'Andrea@Contoso.com')).toBe('allowed');
    expect(a.checkSendAs(identity, 'dev@contoso.com')).toBe('allowed');
    expect(a.checkSendAs(identity, 'ops@contoso.com')).toBe('denied');
    expect(a.checkSendAs(identity, 'someone@example.org')).toBe('denied');
    const app = {
      mailbox: 'ops@contoso.com',
      principal: { kind: 'app' as const, id: DAEMON, tenantId: TENANT, name: DAEMON },
    };
    expect(a.checkSendAs(app, 'ops@contoso.com')).toBe('logon-failure');
    expect(a.checkSendAs({ ...app, mailbox: 'developers@contoso.com' }, 'developers@contoso.com')).toBe('allowed');
  });

  it('lets an app submit as a mailbox in its RBAC for Applications scope without the SMTP.SendAsApp role', async () => {
    const b = access({
      scoped: {
        audience: 'exchange',
        scopes: [],
        roles: [],
        tenantId: TENANT,
        appId: DAEMON,
        servicePrincipalId: DAEMON_SP,
        expiresAt: NOW + 1000,
      },
    });
    // andrea@ gives the daemon no FullAccess: the scope alone lets it in and send as andrea@.
    expect(await b.authorizeSmtp({ user: 'andrea@contoso.com', token: 'scoped' })).toMatchObject({
      outcome: 'authenticated',
      mailbox: 'andrea@contoso.com',
    });
    const app = {
      mailbox: 'andrea@contoso.com',
      principal: { kind: 'app' as const, id: DAEMON, tenantId: TENANT, name: DAEMON },
    };
    expect(b.checkSendAs(app, 'andrea@contoso.com')).toBe('allowed');
    // developers@ is outside the scope, and the token has no role: 535 5.7.3.
    expect((await b.authorizeSmtp({ user: 'developers@contoso.com', token: 'scoped' })).outcome).toBe('refused');
    // The scope does not help an app unknown to Exchange.
    const right = registered[DAEMON];
    delete registered[DAEMON];
    expect((await b.authorizeSmtp({ user: 'andrea@contoso.com', token: 'scoped' })).outcome).toBe('refused');
    registered[DAEMON] = right as { objectId: string };
  });

  it('resolves aliases to the primary address for delivery', () => {
    expect(a.resolveMailbox('DEV@contoso.com')).toBe('developers@contoso.com');
    expect(a.resolveMailbox('nobody@example.org')).toBeUndefined();
  });
});

describe('password logins (basic authentication switched on)', () => {
  const a = access({});
  const andrea = { kind: 'user', id: ANDREA, tenantId: TENANT, name: 'andrea@contoso.onmicrosoft.com' };

  it("connects IMAP by UPN, by the user's mailbox address or alias, on the user's own mailbox, without expiry", () => {
    for (const user of ['andrea@contoso.onmicrosoft.com', 'Andrea@Contoso.com', 'a.rossi@contoso.com']) {
      expect(a.authorizeImapPassword({ user, password: 'Andrea#2025' })).toEqual({
        outcome: 'connected',
        mailbox: 'andrea@contoso.com',
        principal: andrea,
        expiresAt: Number.POSITIVE_INFINITY,
      });
    }
    expect(
      a.authorizeImapPassword({ user: 'andrea@contoso.com', password: 'Andrea#2025', authzid: 'ANDREA@contoso.com' })
        .outcome,
    ).toBe('connected');
    expect(a.authorizeImapPassword({ user: 'andrea@contoso.com', password: 'Andrea#2025', authzid: '' }).outcome).toBe(
      'connected',
    );
  });

  it('refuses a wrong password, an unknown login, a shared mailbox, a disabled user, a user without mailbox, another authzid', () => {
    const refused = (user: string, password: string, authzid?: string): string =>
      a.authorizeImapPassword({ user, password, authzid }).outcome;
    expect(refused('andrea@contoso.com', 'andrea#2025')).toBe('refused');
    expect(refused('andrea@contoso.com', '')).toBe('refused');
    expect(refused('ghost@contoso.com', 'Andrea#2025')).toBe('refused');
    expect(refused('developers@contoso.com', 'Andrea#2025')).toBe('refused');
    expect(refused('dev@contoso.com', 'Andrea#2025')).toBe('refused');
    expect(refused('marco@contoso.com', 'Marco#2025')).toBe('refused');
    expect(refused('admin@contoso.com', 'Admin#2025')).toBe('refused');
    expect(refused('andrea@contoso.com', 'Andrea#2025', 'developers@contoso.com')).toBe('refused');
  });

  it('never puts the password in a refusal reason', () => {
    const decision = a.authorizeImapPassword({ user: 'andrea@contoso.com', password: 'not-Andrea-secret' });
    expect(JSON.stringify(decision)).not.toContain('not-Andrea-secret');
  });

  it('refuses IMAP when the mailbox has IMAP disabled', () => {
    const box = mailboxes['andrea@contoso.com'] as MailboxFacts;
    mailboxes['andrea@contoso.com'] = { ...box, imapEnabled: false };
    expect(a.authorizeImapPassword({ user: 'andrea@contoso.com', password: 'Andrea#2025' }).outcome).toBe('refused');
    mailboxes['andrea@contoso.com'] = box;
  });

  it('authenticates SMTP on the own mailbox and honours the SMTP AUTH settings', () => {
    expect(a.authorizeSmtpPassword({ user: 'a.rossi@contoso.com', password: 'Andrea#2025' })).toEqual({
      outcome: 'authenticated',
      mailbox: 'andrea@contoso.com',
      principal: andrea,
      expiresAt: Number.POSITIVE_INFINITY,
    });
    expect(a.authorizeSmtpPassword({ user: 'andrea@contoso.com', password: 'wrong' }).outcome).toBe('refused');
    expect(a.authorizeSmtpPassword({ user: 'developers@contoso.com', password: 'Andrea#2025' }).outcome).toBe(
      'refused',
    );
    const box = mailboxes['andrea@contoso.com'] as MailboxFacts;
    mailboxes['andrea@contoso.com'] = { ...box, smtpAuthEnabled: false };
    expect(a.authorizeSmtpPassword({ user: 'andrea@contoso.com', password: 'Andrea#2025' })).toEqual({
      outcome: 'smtp-auth-disabled',
      scope: 'mailbox',
    });
    mailboxes['andrea@contoso.com'] = { ...box, tenantSmtpAuthEnabled: false };
    expect(a.authorizeSmtpPassword({ user: 'andrea@contoso.com', password: 'Andrea#2025' })).toEqual({
      outcome: 'smtp-auth-disabled',
      scope: 'tenant',
    });
    mailboxes['andrea@contoso.com'] = box;
  });
});
