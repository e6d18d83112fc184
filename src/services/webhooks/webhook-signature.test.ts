import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  computeSignature,
  generateWebhookSecret,
  parseSignatureHeader,
  signatureHeader,
  verifySignature,
  WEBHOOK_SECRET_PREFIX,
} from './webhook-signature.js';

const SECRET = 'whsec_test-secret-value';
const BODY = '{"id":1,"type":"message.received"}';

describe('webhook signatures', () => {
  it('signs HMAC-SHA256 over "<t>.<body>" with the secret as key', () => {
    const expected = createHmac('sha256', SECRET).update(`1700000000.${BODY}`).digest('hex');
    expect(computeSignature(SECRET, 1_700_000_000, BODY)).toBe(expected);
    expect(signatureHeader(SECRET, 1_700_000_000, BODY)).toBe(`t=1700000000,v1=${expected}`);
  });

  it('accepts its own signature within the replay window', () => {
    const header = signatureHeader(SECRET, 1_700_000_000, BODY);
    expect(verifySignature({ secret: SECRET, header, body: BODY, nowSeconds: 1_700_000_100 })).toEqual({
      ok: true,
      timestamp: 1_700_000_000,
    });
  });

  it('refuses a replay outside the window, a changed body, another secret, and junk', () => {
    const header = signatureHeader(SECRET, 1_700_000_000, BODY);
    expect(verifySignature({ secret: SECRET, header, body: BODY, nowSeconds: 1_700_000_301 })).toEqual({
      ok: false,
      reason: 'expired',
    });
    expect(verifySignature({ secret: SECRET, header, body: `${BODY} `, nowSeconds: 1_700_000_000 })).toEqual({
      ok: false,
      reason: 'mismatch',
    });
    expect(verifySignature({ secret: 'whsec_other', header, body: BODY, nowSeconds: 1_700_000_000 })).toEqual({
      ok: false,
      reason: 'mismatch',
    });
    for (const junk of ['', 't=abc,v1=00', 'v1=' + 'a'.repeat(64), 't=1', 't=1,v1=xyz', 't=1=2,v1=' + 'a'.repeat(64)]) {
      expect(verifySignature({ secret: SECRET, header: junk, body: BODY, nowSeconds: 1 }).ok, junk).toBe(false);
    }
  });

  it('accepts any of several v1 values (rotation)', () => {
    const good = computeSignature(SECRET, 10, BODY);
    const parsed = parseSignatureHeader(`t=10,v1=${'0'.repeat(64)},v1=${good}`);
    expect(parsed?.signatures).toHaveLength(2);
    expect(
      verifySignature({ secret: SECRET, header: `t=10,v1=${'0'.repeat(64)},v1=${good}`, body: BODY, nowSeconds: 10 })
        .ok,
    ).toBe(true);
  });

  it('generates distinct prefixed secrets', () => {
    const a = generateWebhookSecret();
    const b = generateWebhookSecret();
    expect(a.startsWith(WEBHOOK_SECRET_PREFIX)).toBe(true);
    expect(a).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
  });
});
