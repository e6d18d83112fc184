import { describe, expect, it } from 'vitest';
import { appRbacGrants, type AppRoleAssignment } from './app-rbac.js';

const DAEMON = '5e7f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a03';
const OTHER = '0a0a0a0a-0000-4000-8000-000000000001';
const assignments: AppRoleAssignment[] = [
  { appId: DAEMON, role: 'Application Mail.ReadWrite', mailboxes: ['developers@contoso.com'] },
  { appId: DAEMON, role: 'Application Mail.Send', mailboxes: ['developers@contoso.com', 'ops@contoso.com'] },
  { appId: OTHER, role: 'Application Mail.Read', mailboxes: ['andrea@contoso.com'] },
  { appId: OTHER, role: 'Application Calendars.Read', mailboxes: ['ops@contoso.com'] },
];

describe('RBAC for Applications', () => {
  it('grants the role’s permission on the mailboxes of its scope, whatever the case of ids and addresses', () => {
    expect(appRbacGrants(assignments, DAEMON, ['mail.read', 'mail.readwrite'], 'developers@contoso.com')).toBe(true);
    expect(appRbacGrants(assignments, DAEMON.toUpperCase(), ['mail.readwrite'], 'Developers@Contoso.com')).toBe(true);
    expect(appRbacGrants(assignments, DAEMON, ['mail.send'], 'ops@contoso.com')).toBe(true);
  });

  it('grants nothing outside the scope, for another role, to another app, or for an unknown role', () => {
    expect(appRbacGrants(assignments, DAEMON, ['mail.readwrite'], 'ops@contoso.com')).toBe(false);
    expect(appRbacGrants(assignments, DAEMON, ['smtp.sendasapp'], 'developers@contoso.com')).toBe(false);
    expect(appRbacGrants(assignments, OTHER, ['mail.readwrite'], 'andrea@contoso.com')).toBe(false);
    expect(appRbacGrants(assignments, OTHER, ['mail.read'], 'andrea@contoso.com')).toBe(true);
    expect(appRbacGrants(assignments, OTHER, ['calendars.read', 'mail.read'], 'ops@contoso.com')).toBe(false);
    expect(appRbacGrants([], DAEMON, ['mail.read'], 'developers@contoso.com')).toBe(false);
  });
});
