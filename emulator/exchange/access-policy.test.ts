import { describe, expect, it } from 'vitest';
import { createExchangeAccess, type MailboxFacts, type TokenFacts } from './access-policy.js';

const NOW = Date.UTC(2025, 0, 15);
const TENANT = 'tenant-1';
const ANDREA = 'oid-andrea';
const DAEMON = 'app-daemon';

const mailboxes: Record<string, MailboxFacts> = {
  'andrea@contoso.com': { address: 'andrea@contoso.com', tenantId: TENANT, kind: 'user', ownerUserId: ANDREA, fullAccess: [], sendAs: [], imapEnabled: true, smtpAuthEnabled: null, tenantSmtpAuthEnabled: true },
  'developers@contoso.com': { address: 'developers@contoso.com', tenantId: TENANT, kind: 'shared', fullAccess: [ANDREA, DAEMON], sendAs: [ANDREA], imapEnabled: true, smtpAuthEnabled: null, tenantSmtpAuthEnabled: true },
  'ops@contoso.com': { address: 'ops@contoso.com', tenantId: TENANT, kind: 'shared', fullAccess: [], sendAs: [], imapEnabled: true, smtpAuthEnabled: null, tenantSmtpAuthEnabled: true },
};
const aliases: Record<string, string> = { 'dev@contoso.com': 'developers@contoso.com' };

function access(tokens: Record<string, TokenFacts>) {
  return createExchangeAccess(
    {
      introspect: async (token) => tokens[token],
      findMailbox: (address) => mailboxes[aliases[address.toLowerCase()] ?? address.toLowerCase()],
    },
    { now: () => NOW },
  );
}

const delegated = (scopes: string[], overrides: Partial<TokenFacts> = {}): TokenFacts => ({
  audience: 'exchange', scopes, roles: [], tenantId: TENANT, appId: 'web', userId: ANDREA, upn: 'andrea@contoso.com', expiresAt: NOW + 3_600_000, ...overrides,
});

describe('IMAP authorization', () => {
  const a = access({
    good: delegated(['IMAP.AccessAsUser.All']),
    prefixed: delegated(['https://outlook.office.com/IMAP.AccessAsUser.All']),
    smtpOnly: delegated(['SMTP.Send']),
    graph: delegated(['IMAP.AccessAsUser.All'], { audience: 'graph' }),
    expired: delegated(['IMAP.AccessAsUser.All'], { expiresAt: NOW }),
    otherTenant: delegated(['IMAP.AccessAsUser.All'], { tenantId: 'tenant-2' }),
    app: { audience: 'exchange', scopes: [], roles: ['IMAP.AccessAsApp'], tenantId: TENANT, appId: DAEMON, expiresAt: NOW + 1000 },
  });

  it('connects the owner, with either scope spelling, and a delegate with FullAccess (also by alias)', async () => {
    expect(await a.authorizeImap({ user: 'andrea@contoso.com', token: 'good' })).toMatchObject({ outcome: 'connected', mailbox: 'andrea@contoso.com' });
    expect(await a.authorizeImap({ user: 'andrea@contoso.com', token: 'prefixed' })).toMatchObject({ outcome: 'connected' });
    expect(await a.authorizeImap({ user: 'dev@contoso.com', token: 'good' })).toMatchObject({ outcome: 'connected', mailbox: 'developers@contoso.com' });
    expect(await a.authorizeImap({ user: 'developers@contoso.com', token: 'app' })).toMatchObject({ outcome: 'connected', principal: { kind: 'app' } });
  });

  it('refuses bad tokens and unknown mailboxes; authenticates but does not connect without access', async () => {
    for (const token of ['nope', 'smtpOnly', 'graph', 'expired', 'otherTenant']) {
      expect((await a.authorizeImap({ user: 'andrea@contoso.com', token })).outcome).toBe('refused');
    }
    expect((await a.authorizeImap({ user: 'ghost@contoso.com', token: 'good' })).outcome).toBe('refused');
    expect((await a.authorizeImap({ user: 'ops@contoso.com', token: 'good' })).outcome).toBe('not-connected');
    expect((await a.authorizeImap({ user: 'andrea@contoso.com', token: 'app' })).outcome).toBe('not-connected');
  });
});

describe('SMTP authorization and Send As', () => {
  const a = access({ good: delegated(['SMTP.Send']), imapOnly: delegated(['IMAP.AccessAsUser.All']), app: { audience: 'exchange', scopes: [], roles: ['SMTP.SendAsApp'], tenantId: TENANT, appId: DAEMON, expiresAt: NOW + 1000 } });

  it('authenticates only the token user as login; a shared mailbox login is refused', async () => {
    expect(await a.authorizeSmtp({ user: 'andrea@contoso.com', token: 'good' })).toMatchObject({ outcome: 'authenticated', mailbox: 'andrea@contoso.com' });
    expect((await a.authorizeSmtp({ user: 'developers@contoso.com', token: 'good' })).outcome).toBe('refused');
    expect((await a.authorizeSmtp({ user: 'andrea@contoso.com', token: 'imapOnly' })).outcome).toBe('refused');
  });

  it('honours SMTP AUTH settings: mailbox first, then the tenant default', async () => {
    const box = mailboxes['andrea@contoso.com'] as MailboxFacts;
    mailboxes['andrea@contoso.com'] = { ...box, smtpAuthEnabled: false };
    expect(await a.authorizeSmtp({ user: 'andrea@contoso.com', token: 'good' })).toEqual({ outcome: 'smtp-auth-disabled', scope: 'mailbox' });
    mailboxes['andrea@contoso.com'] = { ...box, tenantSmtpAuthEnabled: false };
    expect(await a.authorizeSmtp({ user: 'andrea@contoso.com', token: 'good' })).toEqual({ outcome: 'smtp-auth-disabled', scope: 'tenant' });
    mailboxes['andrea@contoso.com'] = { ...box, smtpAuthEnabled: true, tenantSmtpAuthEnabled: false };
    expect((await a.authorizeSmtp({ user: 'andrea@contoso.com', token: 'good' })).outcome).toBe('authenticated');
    mailboxes['andrea@contoso.com'] = box;
  });

  it('allows sending as oneself and as a mailbox with Send As only', () => {
    const identity = { mailbox: 'andrea@contoso.com', principal: { kind: 'user' as const, id: ANDREA, tenantId: TENANT, name: 'andrea@contoso.com' } };
    expect(a.checkSendAs(identity, 'Andrea@Contoso.com')).toBe('allowed');
    expect(a.checkSendAs(identity, 'dev@contoso.com')).toBe('allowed');
    expect(a.checkSendAs(identity, 'ops@contoso.com')).toBe('denied');
    expect(a.checkSendAs(identity, 'someone@example.org')).toBe('denied');
    const app = { mailbox: 'ops@contoso.com', principal: { kind: 'app' as const, id: DAEMON, tenantId: TENANT, name: DAEMON } };
    expect(a.checkSendAs(app, 'ops@contoso.com')).toBe('logon-failure');
    expect(a.checkSendAs({ ...app, mailbox: 'developers@contoso.com' }, 'developers@contoso.com')).toBe('allowed');
  });

  it('resolves aliases to the primary address for delivery', () => {
    expect(a.resolveMailbox('DEV@contoso.com')).toBe('developers@contoso.com');
    expect(a.resolveMailbox('nobody@example.org')).toBeUndefined();
  });
});
