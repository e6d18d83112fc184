import { describe, expect, it } from 'vitest';
import { FaultInjector } from './faults.js';
import { RequestLog, redactAuthorization, redactParams } from './request-log.js';

describe('request log', () => {
  it('redacts every secret parameter and the Authorization value', () => {
    expect(
      redactParams({
        grant_type: 'refresh_token',
        refresh_token: 'rt',
        client_secret: 's',
        code: 'c',
        code_verifier: 'v',
        password: 'p',
        device_code: 'd',
        scope: 'openid',
      }),
    ).toEqual({
      grant_type: 'refresh_token',
      refresh_token: '[redacted]',
      client_secret: '[redacted]',
      code: '[redacted]',
      code_verifier: '[redacted]',
      password: '[redacted]',
      device_code: '[redacted]',
      scope: 'openid',
    });
    expect(redactAuthorization('Basic YWJjOmRlZg==')).toBe('Basic [redacted]');
    expect(redactAuthorization(undefined)).toBeUndefined();
  });

  it('filters, numbers and bounds its entries', () => {
    const log = new RequestLog(3);
    const base = {
      at: '',
      method: 'POST',
      path: '/t',
      endpoint: 'token',
      tenant: 'x',
      clientId: 'app',
      params: {},
      authorization: undefined,
      status: 200,
      error: undefined,
      aadsts: undefined,
      fault: undefined,
      durationMs: 1,
    };
    for (const grantType of ['refresh_token', 'password', 'refresh_token', 'refresh_token'])
      log.record({ ...base, grantType });
    expect(log.list().map((e) => e.seq)).toEqual([2, 3, 4]);
    expect(log.list({ grantType: 'refresh_token' })).toHaveLength(2);
    expect(log.list({ sinceSeq: 3 })).toHaveLength(1);
    expect(log.clear()).toBe(3);
  });
});

describe('fault injector', () => {
  it('consumes faults per target in order and forgets spent ones', () => {
    const faults = new FaultInjector();
    faults.add({ target: 'token', kind: 'http-500', count: 2 });
    faults.add({ target: 'token', kind: 'drop' });
    faults.add({ target: 'imap', kind: 'delay', delayMs: 5 });
    expect([
      faults.take('token')?.kind,
      faults.take('token')?.kind,
      faults.take('token')?.kind,
      faults.take('token'),
    ]).toEqual(['http-500', 'http-500', 'drop', undefined]);
    expect(faults.list().map((f) => f.target)).toEqual(['imap']);
    expect(() => faults.add({ target: 'token', kind: 'explode' })).toThrow();
  });
});
