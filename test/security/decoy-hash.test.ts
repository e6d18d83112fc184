/**
 * Issue 13, "what held": sign-in does the same scrypt work whether or not the user exists. For an
 * unknown username the password is checked against a decoy hash: a real scrypt hash at the
 * production cost, computed once, of a random password nobody knows, so it never verifies. A
 * disabled user with the right password gets exactly the answer of a wrong password.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decoyHash, hashPassword, verifyPassword } from '../../src/services/users/passwords.js';
import { startTestPostern, type TestPostern } from '../helpers/postern.js';

describe('the decoy hash', () => {
  it('is an scrypt hash at the cost of real ones, computed once', async () => {
    const decoy = await decoyHash();
    expect(decoy).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{86}==$/);
    const real = await hashPassword('a long enough password');
    expect(real.split('$').slice(0, 4)).toEqual(decoy.split('$').slice(0, 4));
    expect(await decoyHash()).toBe(decoy);
    expect(decoyHash()).toBe(decoyHash());
  });

  it('never verifies a password', async () => {
    const decoy = await decoyHash();
    for (const guess of ['', 'password', 'a long enough password', '0'.repeat(32), 'undefined', 'null', decoy]) {
      expect(await verifyPassword(guess, decoy), guess).toBe(false);
    }
  });
});

describe('a disabled user with the right password', () => {
  let postern: TestPostern;
  const PASSWORD = 'Correct-Horse-Battery-7';
  beforeAll(async () => {
    postern = await startTestPostern();
    const user = await postern.runtime.services.users.create({ username: 'andrea', role: 'agent', password: PASSWORD });
    await postern.runtime.services.users.update(user.id, { disabled: true });
  });
  afterAll(async () => postern.close());

  const signIn = (username: string, password: string, address: string) =>
    postern.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username, password },
      remoteAddress: address,
    });

  it('gets exactly the answer of a wrong password and of an unknown user, and no cookie', async () => {
    const disabled = await signIn('andrea', PASSWORD, '10.3.0.1');
    const wrong = await signIn('andrea', 'not the password', '10.3.0.2');
    const unknown = await signIn('nobody', PASSWORD, '10.3.0.3');
    for (const response of [disabled, wrong, unknown]) {
      expect(response.statusCode).toBe(401);
      expect(response.cookies).toEqual([]);
    }
    expect(disabled.body).toBe(wrong.body);
    expect(disabled.body).toBe(unknown.body);
    expect(disabled.json().error.code).toBe('AUTH_INVALID_CREDENTIALS');
    expect(Object.keys(disabled.headers).sort()).toEqual(Object.keys(wrong.headers).sort());
  });
});
