import { describe, expect, it } from 'vitest';
import { Clock, DAY_MS } from '../clock.js';
import type { DirectoryChange } from './model.js';
import { Directory } from './directory.js';
import { readSeedFile, sampleSeedPath } from './load-seed.js';

async function sampleDirectory(): Promise<{ directory: Directory; clock: Clock }> {
  const clock = new Clock({ source: () => Date.UTC(2025, 0, 15, 12) });
  const directory = new Directory(clock, await readSeedFile(sampleSeedPath()));
  return { directory, clock };
}

describe('Directory', () => {
  it('loads the sample seed: tenant by GUID and by domain, users, mailboxes', async () => {
    const { directory } = await sampleDirectory();
    const byDomain = directory.findTenant('CONTOSO.com');
    expect(byDomain?.id).toBe('7a3c9f4e-2b1d-4e8a-9c6f-1d2e3f4a5b6c');
    expect(directory.findTenant('7A3C9F4E-2B1D-4E8A-9C6F-1D2E3F4A5B6C')).toBe(byDomain);
    expect(directory.findUserByUpn('Andrea@Contoso.com')?.displayName).toBe('Andrea Rossi');
    expect(
      directory
        .listMailboxes()
        .map((m) => m.address)
        .sort(),
    ).toEqual([
      'andrea@contoso.com',
      'developers@contoso.com',
      'giulia@contoso.com',
      'luca@contoso.com',
      'marco@contoso.com',
    ]);
  });

  it('finds the shared mailbox by alias and knows its delegate', async () => {
    const { directory } = await sampleDirectory();
    const shared = directory.findMailbox('DEV@contoso.com');
    const andrea = directory.findUserByUpn('andrea@contoso.com');
    const marco = directory.findUserByUpn('marco@contoso.com');
    expect(shared?.address).toBe('developers@contoso.com');
    expect(shared?.kind).toBe('shared');
    if (shared === undefined || andrea === undefined || marco === undefined) throw new Error('seed incomplete');
    expect(directory.hasFullAccess(andrea.id, shared)).toBe(true);
    expect(directory.hasSendAs(andrea.id, shared)).toBe(true);
    expect(directory.hasFullAccess(marco.id, shared)).toBe(false);
    expect(directory.tenantOf(shared)?.displayName).toBe('Contoso');
    expect(directory.tenantOf('someone@contoso.onmicrosoft.com')?.id).toBe(shared.tenantId);
  });

  it('checks a password against the current one (basic authentication)', async () => {
    const { directory } = await sampleDirectory();
    const andrea = directory.findUserByUpn('andrea@contoso.com');
    if (andrea === undefined) throw new Error('seed incomplete');
    expect(directory.checkPassword(andrea.id, 'Andrea#2025')).toBe(true);
    expect(directory.checkPassword(andrea.id, 'andrea#2025')).toBe(false);
    expect(directory.checkPassword(andrea.id, '')).toBe(false);
    expect(directory.checkPassword('00000000-0000-4000-8000-000000000000', 'Andrea#2025')).toBe(false);
    directory.changePassword(andrea.id, 'Andrea#2026');
    expect(directory.checkPassword(andrea.id, 'Andrea#2025')).toBe(false);
    expect(directory.checkPassword(andrea.id, 'Andrea#2026')).toBe(true);
  });

  it('resolves SMTP AUTH from the mailbox, else from the tenant default', async () => {
    const { directory } = await sampleDirectory();
    const shared = directory.findMailbox('developers@contoso.com');
    const andrea = directory.findMailbox('andrea@contoso.com');
    if (shared === undefined || andrea === undefined) throw new Error('seed incomplete');
    expect(directory.smtpAuthEnabledFor(shared)).toBe(true);
    directory.updateTenant('contoso.com', { smtpAuthDisabledByDefault: true });
    expect(directory.smtpAuthEnabledFor(shared)).toBe(false);
    expect(directory.smtpAuthEnabledFor(andrea)).toBe(true);
    directory.updateMailbox('andrea@contoso.com', { smtpAuthEnabled: false });
    expect(directory.smtpAuthEnabledFor(andrea)).toBe(false);
  });

  it('emits change events a server can react to', async () => {
    const { directory, clock } = await sampleDirectory();
    const seen: DirectoryChange[] = [];
    const off = directory.onChange((c) => seen.push(c));
    directory.updateUser('marco@contoso.com', { disabled: true });
    clock.advance(DAY_MS);
    directory.revokeSessions('andrea@contoso.com');
    directory.removeDelegate('developers@contoso.com', 'andrea@contoso.com', ['SendAs']);
    off();
    directory.updateUser('marco@contoso.com', { disabled: false });
    expect(seen.map((c) => c.type)).toEqual(['user-updated', 'user-disabled', 'sessions-revoked', 'mailbox-updated']);
    expect(directory.findUserByUpn('andrea@contoso.com')?.tokensValidFrom?.toISOString()).toBe(
      '2025-01-16T12:00:00.000Z',
    );
    expect(directory.findMailbox('developers@contoso.com')?.sendAs).toEqual([]);
  });

  it('tracks admin and user consent separately', async () => {
    const { directory } = await sampleDirectory();
    const tenantId = '7a3c9f4e-2b1d-4e8a-9c6f-1d2e3f4a5b6c';
    const web = '5e7f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a01';
    const andrea = directory.findUserByUpn('andrea@contoso.com');
    if (andrea === undefined) throw new Error('seed incomplete');
    expect(directory.consentedScopes(tenantId, web, andrea.id).size).toBe(0);
    directory.grantConsent({
      tenantId,
      appId: web,
      userId: andrea.id,
      scopes: ['https://outlook.office365.com/imap.accessasuser.all', 'offline_access'],
    });
    expect([...directory.consentedScopes(tenantId, web, andrea.id)]).toEqual([
      'https://outlook.office.com/IMAP.AccessAsUser.All',
      'offline_access',
    ]);
    expect(directory.revokeConsent({ tenantId, appId: web, userId: 'all' })).toBe(1);
    expect([...directory.consentedRoles(tenantId, '5e7f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a03')]).toContain(
      'https://outlook.office.com/IMAP.AccessAsApp',
    );
  });

  it('rejects a seed with an unknown delegate, naming it', () => {
    const clock = new Clock();
    const directory = new Directory(clock);
    expect(() =>
      directory.load({
        tenants: [
          {
            id: '11111111-2222-4333-8444-555555555555',
            displayName: 'Fabrikam',
            domains: ['fabrikam.com'],
            mailboxes: [{ address: 'team@fabrikam.com', displayName: 'Team', fullAccess: ['ghost@fabrikam.com'] }],
          },
        ],
      }),
    ).toThrow(/unknown user "ghost@fabrikam.com"/);
  });

  it('exports a seed that loads back to the same state', async () => {
    const { directory, clock } = await sampleDirectory();
    directory.addSecret('5e7f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a01', { expiresAt: new Date('2030-01-01T00:00:00Z') });
    const copy = new Directory(clock, directory.exportSeed());
    expect(copy.exportSeed()).toEqual(directory.exportSeed());
    expect(copy.findApp('5e7f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a01')?.secrets).toHaveLength(3);
  });
});
