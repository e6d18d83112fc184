import { describe, expect, it } from 'vitest';
import { canonicalPermission, parseScope } from './resources.js';

describe('scope parsing', () => {
  it('accepts both Exchange prefixes and the app id form, case-insensitively', () => {
    for (const [raw, identifier] of [
      ['https://outlook.office.com/IMAP.AccessAsUser.All', 'https://outlook.office.com'],
      ['https://outlook.office365.com/imap.accessasuser.all', 'https://outlook.office365.com'],
      ['00000002-0000-0ff1-ce00-000000000000/IMAP.AccessAsUser.All', '00000002-0000-0ff1-ce00-000000000000'],
    ]) {
      expect(parseScope(raw ?? '')).toEqual({
        kind: 'resource',
        resource: 'exchange',
        name: 'IMAP.AccessAsUser.All',
        identifier,
      });
    }
  });

  it('defaults bare names to Graph and recognises OIDC scopes and .default', () => {
    expect(parseScope('Mail.Read')).toEqual({ kind: 'resource', resource: 'graph', name: 'Mail.Read' });
    expect(parseScope('OFFLINE_ACCESS')).toEqual({ kind: 'oidc', name: 'offline_access' });
    expect(parseScope('https://outlook.office365.com/.default', 'application')).toEqual({
      kind: 'resource',
      resource: 'exchange',
      name: '.default',
      identifier: 'https://outlook.office365.com',
    });
  });

  it('tells unknown resources from unknown names', () => {
    expect(parseScope('https://example.org/x').kind).toBe('unknown-resource');
    expect(parseScope('https://outlook.office.com/Nope').kind).toBe('invalid');
    expect(parseScope('IMAP.AccessAsUser.All').kind).toBe('invalid');
    expect(parseScope('https://outlook.office.com/IMAP.AccessAsApp', 'delegated').kind).toBe('invalid');
  });

  it('canonicalises permissions to the outlook.office.com form', () => {
    expect(canonicalPermission('https://outlook.office365.com/SMTP.SendAsApp', 'application')).toBe(
      'https://outlook.office.com/SMTP.SendAsApp',
    );
    expect(() => canonicalPermission('https://outlook.office.com/.default', 'delegated')).toThrow(/\.default/);
  });
});
