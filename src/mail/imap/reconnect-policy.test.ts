import { describe, expect, it } from 'vitest';
import { backoffDelay, jwtExpiry, renewalTime } from './reconnect-policy.js';

const policy = { baseMs: 1000, maxMs: 60_000, needsAdminMinMs: 30_000 };

describe('backoffDelay', () => {
  it('doubles, jitters between half and the whole step, and stops at the maximum', () => {
    expect(backoffDelay(0, policy, () => 0)).toBe(500);
    expect(backoffDelay(0, policy, () => 1)).toBe(1000);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(6000);
    expect(backoffDelay(20, policy, () => 1)).toBe(60_000);
    expect(backoffDelay(20, policy, () => 0)).toBe(30_000);
  });
  it('waits at least the admin minimum when a person must act', () => {
    expect(backoffDelay(0, policy, () => 0, true)).toBe(30_000);
    expect(backoffDelay(0, { ...policy, maxMs: 10_000 }, () => 0, true)).toBe(10_000);
  });
});

describe('jwtExpiry', () => {
  it('reads exp from a JWT and nothing from an opaque token', () => {
    const payload = Buffer.from(JSON.stringify({ exp: 1_736_935_200 })).toString('base64url');
    expect(jwtExpiry(`h.${payload}.s`)).toEqual(new Date('2025-01-15T10:00:00Z'));
    expect(jwtExpiry('opaque-token')).toBeUndefined();
    expect(jwtExpiry('a.not-json.c')).toBeUndefined();
    expect(jwtExpiry(`h.${Buffer.from('{"exp":"soon"}').toString('base64url')}.s`)).toBeUndefined();
  });
});

describe('renewalTime', () => {
  const now = new Date('2025-01-15T09:00:00Z');
  const options = { renewBeforeMs: 300_000, fallbackLifetimeMs: 2_700_000, minimumMs: 30_000 };
  it('renews five minutes before expiry, after the fallback lifetime when unknown, never too soon', () => {
    expect(renewalTime(new Date('2025-01-15T10:00:00Z'), now, options)).toEqual(new Date('2025-01-15T09:55:00Z'));
    expect(renewalTime(undefined, now, options)).toEqual(new Date('2025-01-15T09:45:00Z'));
    expect(renewalTime(new Date('2025-01-15T09:01:00Z'), now, options)).toEqual(new Date('2025-01-15T09:00:30Z'));
  });
});
