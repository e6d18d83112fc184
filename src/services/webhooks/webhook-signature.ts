/**
 * Webhook signatures. Every delivery carries
 *
 *     Postern-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
 *
 * The key is the webhook's secret as UTF-8 bytes (the whole `whsec_…` string). Binding the
 * timestamp into the MAC lets a receiver refuse replays: it recomputes the MAC over the raw body it
 * received, compares in constant time, and rejects a timestamp more than five minutes from its own
 * clock. Several `v1=` values may appear (during a secret rotation); one match is enough.
 *
 * @see https://www.rfc-editor.org/rfc/rfc2104 (HMAC)
 * @see docs/WEBHOOKS.md
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** The header that carries the signature. */
export const SIGNATURE_HEADER = 'Postern-Signature';
/** The marker that starts every webhook secret (and lets log redaction find one). */
export const WEBHOOK_SECRET_PREFIX = 'whsec_';
/** The replay window receivers should apply, in seconds. */
const DEFAULT_TOLERANCE_SECONDS = 300;

/** A new webhook secret: `whsec_` and 32 random bytes in base64url. */
export function generateWebhookSecret(): string {
  return `${WEBHOOK_SECRET_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** The hex HMAC-SHA256 of `<timestamp>.<body>` under `secret`. */
export function computeSignature(secret: string, timestampSeconds: number, body: string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8'))
    .update(`${timestampSeconds}.`, 'utf8')
    .update(body, 'utf8')
    .digest('hex');
}

/** The `Postern-Signature` header value for a body sent at `timestampSeconds`. */
export function signatureHeader(secret: string, timestampSeconds: number, body: string): string {
  return `t=${timestampSeconds},v1=${computeSignature(secret, timestampSeconds, body)}`;
}

/** A parsed signature header. */
export interface ParsedSignature {
  readonly timestamp: number;
  readonly signatures: readonly string[];
}

/** Reads `t=…,v1=…[,v1=…]`; undefined when the header is malformed or has no `v1`. */
export function parseSignatureHeader(header: string): ParsedSignature | undefined {
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const [name, value, ...rest] = part.trim().split('=');
    if (name === undefined || value === undefined || rest.length > 0) return undefined;
    if (name === 't') {
      if (!/^\d{1,12}$/.test(value)) return undefined;
      timestamp = Number(value);
    } else if (name === 'v1') {
      if (!/^[0-9a-f]{64}$/.test(value)) return undefined;
      signatures.push(value);
    }
  }
  return timestamp === undefined || signatures.length === 0 ? undefined : { timestamp, signatures };
}

/** Why a signature was refused. */
export type SignatureVerdict =
  | { readonly ok: true; readonly timestamp: number }
  | { readonly ok: false; readonly reason: 'malformed' | 'expired' | 'mismatch' };

/**
 * Verifies a delivery as a receiver should: the header parses, the timestamp is within
 * `toleranceSeconds` of `nowSeconds`, and one `v1` matches the MAC of the raw body.
 */
export function verifySignature(input: {
  readonly secret: string;
  readonly header: string;
  readonly body: string;
  readonly nowSeconds: number;
  readonly toleranceSeconds?: number;
}): SignatureVerdict {
  const parsed = parseSignatureHeader(input.header);
  if (parsed === undefined) return { ok: false, reason: 'malformed' };
  if (Math.abs(input.nowSeconds - parsed.timestamp) > (input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS))
    return { ok: false, reason: 'expired' };
  const expected = Buffer.from(computeSignature(input.secret, parsed.timestamp, input.body), 'hex');
  const match = parsed.signatures.some((candidate) => {
    const given = Buffer.from(candidate, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  return match ? { ok: true, timestamp: parsed.timestamp } : { ok: false, reason: 'mismatch' };
}
