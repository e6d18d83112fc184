import { describe, expect, it } from 'vitest';
import { Clock } from '../clock.js';
import { Directory } from '../directory/directory.js';
import { readSeedFile, sampleSeedPath } from '../directory/load-seed.js';
import { createIntrospector } from './introspect.js';
import { IdentityKeys } from './keys.js';
import { mintAccessToken, mintIdToken } from './tokens.js';

// RSA generation is the slow part: one key set for the file (rotation keeps old keys valid).
const keys = IdentityKeys.generate();
const foreignKeys = IdentityKeys.generate();

async function setup() {
  let real = Date.UTC(2025, 2, 1, 9);
  const clock = new Clock({ source: () => real });
  const directory = new Directory(clock, await readSeedFile(sampleSeedPath()));
  const introspect = createIntrospector({ keys, clock, directory });
  const tenant = directory.findTenant('contoso.com');
  const app = directory.findApp('5e7f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a01');
  const user = directory.findUserByUpn('andrea@contoso.com');
  if (tenant === undefined || app === undefined || user === undefined) throw new Error('sample seed changed');
  const mint = () =>
    mintAccessToken(keys, clock, {
      tenant,
      app,
      user,
      resource: 'exchange',
      scopes: ['IMAP.AccessAsUser.All', 'SMTP.Send'],
      confidential: true,
      lifetimeSeconds: 3600,
    });
  return { clock, directory, keys, introspect, tenant, app, user, mint, tick: (ms: number) => (real += ms) };
}

describe('introspectAccessToken', () => {
  it('reports a valid delegated Exchange token synchronously', async () => {
    const { introspect, mint, user } = await setup();
    const minted = mint();
    const result = introspect(minted.token);
    expect(result).toMatchObject({
      valid: true,
      audience: 'exchange',
      aud: 'https://outlook.office.com',
      scopes: ['IMAP.AccessAsUser.All', 'SMTP.Send'],
      roles: [],
      tenantId: user.tenantId,
      appId: '5e7f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a01',
      userId: user.id,
      upn: 'andrea@contoso.com',
      expiresAt: minted.expiresAt,
    });
  });

  it('says malformed, signature, wrong-issuer, expired and revoked', async () => {
    const { introspect, mint, keys, clock, tenant, app, user, directory } = await setup();
    const token = mint().token;
    expect(introspect('abc')).toEqual({ valid: false, reason: 'malformed' });
    const [h, p] = token.split('.');
    expect(introspect(`${h}.${p}.${'A'.repeat(342)}`)).toEqual({ valid: false, reason: 'signature' });
    expect(introspect(foreignKeys.signJwt({ iss: `https://sts.windows.net/${tenant.id}/` }))).toEqual({
      valid: false,
      reason: 'signature',
    });
    const idToken = mintIdToken(keys, clock, {
      issuer: `https://127.0.0.1/${tenant.id}/v2.0`,
      tenant,
      app,
      user,
      email: false,
    });
    expect(introspect(idToken)).toEqual({ valid: false, reason: 'wrong-issuer' });
    clock.advance(3600_000);
    expect(introspect(token)).toEqual({ valid: false, reason: 'expired' });
    clock.reset();
    directory.updateUser(user.id, { disabled: true });
    expect(introspect(token)).toEqual({ valid: false, reason: 'revoked' });
  });

  it('keeps a token issued before the sessions were revoked valid until it expires (no continuous access evaluation)', async () => {
    const { introspect, mint, directory, user, tick, clock } = await setup();
    const before = mint();
    tick(1000);
    directory.revokeSessions(user.id);
    expect(introspect(before.token)).toMatchObject({ valid: true, userId: user.id });
    clock.set(new Date(before.expiresAt.getTime() - 1000));
    expect(introspect(before.token).valid).toBe(true);
    clock.set(before.expiresAt);
    expect(introspect(before.token)).toEqual({ valid: false, reason: 'expired' });
  });

  it('with continuous access evaluation on, refuses a token issued before the revocation at once, and accepts one issued after', async () => {
    const { introspect, mint, directory, user, tenant, tick } = await setup();
    directory.updateTenant(tenant.id, { continuousAccessEvaluation: true });
    const before = mint().token;
    expect(introspect(before).valid).toBe(true);
    tick(1000);
    directory.revokeSessions(user.id);
    expect(introspect(before)).toEqual({ valid: false, reason: 'revoked' });
    expect(introspect(mint().token).valid).toBe(true);
  });

  it('reports roles of an app-only token and keeps validating after key rotation', async () => {
    const { introspect, keys, clock, tenant, directory } = await setup();
    const daemon = directory.findApp('5e7f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a03');
    if (daemon === undefined) throw new Error('sample seed changed');
    const token = mintAccessToken(keys, clock, {
      tenant,
      app: daemon,
      resource: 'graph',
      roles: ['Mail.ReadWrite'],
      confidential: true,
      lifetimeSeconds: 3600,
    }).token;
    await keys.rotate();
    const result = introspect(token);
    expect(result).toMatchObject({ valid: true, audience: 'graph', roles: ['Mail.ReadWrite'], scopes: [] });
    expect(result.valid && result.userId).toBeUndefined();
  });
});
