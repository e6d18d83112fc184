import { describe, expect, it } from 'vitest';
import { isExchangeAudience, readTokenClaims } from './token-claims.js';

const jwt = (claims: object): string =>
  `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;

describe('isExchangeAudience', () => {
  it.each([
    'https://outlook.office.com',
    'https://outlook.office365.com',
    'https://ps.outlook.com',
    'https://ps.outlook.com/',
    'HTTPS://Outlook.Office365.com',
    '00000002-0000-0ff1-ce00-000000000000',
    'https://outlook.office365.us',
    'https://partner.outlook.cn',
  ])('accepts %s, an audience Exchange Online tokens carry', (audience) => {
    expect(isExchangeAudience(audience)).toBe(true);
  });

  it.each([
    'https://graph.microsoft.com',
    '00000003-0000-0000-c000-000000000000',
    'https://outlook.office.com.attacker.example',
    'https://attacker.example/outlook.office.com',
    'api://5e7f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a01',
    '',
  ])('refuses %j', (audience) => {
    expect(isExchangeAudience(audience)).toBe(false);
  });
});

describe('readTokenClaims', () => {
  it('reads the audience, scopes, roles and user of a JWT, and nothing of a token that is not one', () => {
    expect(
      readTokenClaims(jwt({ aud: 'https://ps.outlook.com', scp: 'IMAP.AccessAsUser.All SMTP.Send', upn: 'a@b' })),
    ).toEqual({
      audience: 'https://ps.outlook.com',
      scopes: ['IMAP.AccessAsUser.All', 'SMTP.Send'],
      roles: [],
      user: 'a@b',
      appId: null,
      objectId: null,
    });
    expect(
      readTokenClaims(
        jwt({ aud: 'https://outlook.office365.com', roles: ['IMAP.AccessAsApp'], appid: 'app-1', oid: 'sp-1' }),
      ),
    ).toMatchObject({
      roles: ['IMAP.AccessAsApp'],
      appId: 'app-1',
      objectId: 'sp-1',
    });
    expect(readTokenClaims('opaque-token')).toBeNull();
  });
});
