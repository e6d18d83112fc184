import { describe, expect, it } from 'vitest';
import { Clock } from '../clock.js';
import { silentLogger } from '../log.js';
import { GraphSubscriptions } from './subscriptions.js';

const T0 = Date.parse('2026-03-02T10:00:00Z');
const MINUTE = 60_000;

function subscriptions(): { subs: GraphSubscriptions } {
  const clock = new Clock({ source: () => T0 });
  return { subs: new GraphSubscriptions(clock, '', silentLogger) };
}

describe('emulated Graph subscriptions', () => {
  it('grants up to 10,080 minutes, raises less than 45 to 45, and refuses the past', () => {
    const { subs } = subscriptions();
    expect(subs.grantedExpiry(new Date(T0 + 10_080 * MINUTE)).getTime()).toBe(T0 + 10_080 * MINUTE);
    expect(subs.grantedExpiry(new Date(T0 + 5 * MINUTE)).getTime()).toBe(T0 + 45 * MINUTE);
    expect(() => subs.grantedExpiry(new Date(T0 + 10_081 * MINUTE))).toThrow(/10080 minutes/);
    expect(() => subs.grantedExpiry(new Date(T0 - MINUTE))).toThrow(/future/);
    expect(() => subs.grantedExpiry(new Date('not a date'))).toThrow(/future/);
  });

  it('keeps nothing when the notification URL does not answer the validation request', async () => {
    const { subs } = subscriptions();
    const created = await subs
      .create(
        {
          appId: 'app',
          tenantId: 'tenant',
          changeTypes: new Set(['created']),
          resource: 'me/messages',
          notificationUrl: 'https://127.0.0.1:9/n',
          lifecycleNotificationUrl: null,
          clientState: null,
          userPath: 'Users/u',
          expiresAt: new Date(T0 + 45 * MINUTE),
        },
        [],
      )
      .catch((error: unknown) => error);
    // Validation fails (nothing listens on port 9): Graph's 400, nothing kept.
    expect(created).toMatchObject({ status: 400 });
    expect(subs.size).toBe(0);
  });
});
