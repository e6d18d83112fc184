/**
 * Client assertions (`private_key_jwt`) at the token endpoint, checked as Entra checks them: the
 * certificate named by `x5t#S256` (or `x5t`) among the app's uploaded certificates and still
 * valid, an RS256/PS256 signature by its key, `iss` = `sub` = the client id, `aud` the token
 * endpoint, and `nbf`/`exp` around the emulator clock. The error texts follow Entra's
 * (AADSTS700027 with its bracketed reason, 700024 with the times, 700021, 700023, 50027).
 *
 * Not modelled: replay detection of `jti`, and the `x5c` header (subject name + issuer
 * authentication), which needs a certificate chain the emulator does not have.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/certificate-credentials
 */
import { constants, verify, X509Certificate } from 'node:crypto';
import type { AppCertificate, AppRegistration } from '../directory/model.js';
import { aadsts } from './aadsts.js';

/** The only `client_assertion_type` Entra takes. */
export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Longest assertion read (a few KB in practice; an `x5c` chain stays far below). */
const MAX_ASSERTION = 16_384;

/** What the check needs of the request: the app, the form and the token endpoint it was sent to. */
export interface AssertionInput {
  readonly app: Readonly<AppRegistration>;
  readonly params: Record<string, string>;
  /** Token endpoint URLs that count as the audience (as requested, and with the tenant id). */
  readonly audiences: readonly string[];
  readonly nowMs: number;
}

/**
 * Verifies the client assertion of a token request.
 *
 * @throws AadstsError 50027, 700027, 700021, 700023 or 700024.
 */
export function verifyClientAssertion(input: AssertionInput): void {
  const { app, params } = input;
  if (params.client_assertion_type !== JWT_BEARER)
    throw aadsts(50027, {}, { text: `Invalid client_assertion_type: expected '${JWT_BEARER}'.` });
  const assertion = params.client_assertion ?? '';
  const parts = assertion.length > MAX_ASSERTION ? [] : assertion.split('.');
  const [headerPart, payloadPart, signaturePart] = parts;
  if (parts.length !== 3 || headerPart === undefined || payloadPart === undefined || signaturePart === undefined)
    throw aadsts(50027);
  const header = readJson(headerPart);
  const claims = readJson(payloadPart);
  const x5tS256 = typeof header['x5t#S256'] === 'string' ? header['x5t#S256'] : undefined;
  const x5t = typeof header.x5t === 'string' ? header.x5t : undefined;
  if (x5tS256 === undefined && x5t === undefined)
    throw aadsts(50027, {}, { text: 'Invalid JWT token. No certificate thumbprint specified in token header.' });
  const thumbprint = Buffer.from(x5tS256 ?? x5t ?? '', 'base64url')
    .toString('hex')
    .toUpperCase();
  const certificate = app.certificates.find((c) => (x5tS256 !== undefined ? c.x5tS256 === x5tS256 : c.x5t === x5t));
  const invalid = (reason: string, found?: AppCertificate) =>
    aadsts(700027, {
      reason,
      thumbprint,
      appId: app.appId,
      found:
        found === undefined
          ? ''
          : `, Found key 'Start=${portalDate(found.startsAt)}, End=${portalDate(found.expiresAt)}'`,
    });
  if (certificate === undefined) throw invalid('The key was not found.');
  if (certificate.expiresAt.getTime() <= input.nowMs || certificate.startsAt.getTime() > input.nowMs)
    throw invalid('The key used is expired.', certificate);
  if (!signatureValid(certificate, header.alg, `${headerPart}.${payloadPart}`, signaturePart))
    throw invalid('Key was found, but use of the key to verify the signature failed.', certificate);
  const sameApp = (claim: unknown) => typeof claim === 'string' && claim.toLowerCase() === app.appId;
  if (!sameApp(claims.iss) || !sameApp(claims.sub)) throw aadsts(700021);
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audiences.some((aud) => typeof aud === 'string' && input.audiences.includes(aud))) throw aadsts(700023);
  const nbf = typeof claims.nbf === 'number' ? claims.nbf * 1000 : 0;
  const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : 0;
  // Entra allows a few minutes of clock skew; five, like most validators.
  const skewMs = 5 * 60_000;
  if (exp + skewMs <= input.nowMs || nbf - skewMs > input.nowMs) {
    throw aadsts(700024, { now: ticks(new Date(input.nowMs)), nbf: ticks(new Date(nbf)), exp: ticks(new Date(exp)) });
  }
}

function readJson(part: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return { ...value };
  } catch {
    // falls through to the malformed-token error
  }
  throw aadsts(50027);
}

function signatureValid(certificate: AppCertificate, alg: unknown, input: string, signature: string): boolean {
  const key = new X509Certificate(certificate.pem).publicKey;
  const data = Buffer.from(input, 'ascii');
  const sig = Buffer.from(signature, 'base64url');
  try {
    if (alg === 'RS256') return verify('sha256', data, key, sig);
    if (alg === 'PS256')
      return verify('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig);
  } catch {
    return false;
  }
  return false;
}

/** `2024-10-02T22:05:03.6755165Z`: Entra's seven fractional digits. */
function ticks(at: Date): string {
  return `${at.toISOString().slice(0, 23)}0000Z`;
}

/** `08/18/2024 19:33:23`: how Entra prints a key's validity. */
function portalDate(at: Date): string {
  const iso = at.toISOString();
  return `${iso.slice(5, 7)}/${iso.slice(8, 10)}/${iso.slice(0, 4)} ${iso.slice(11, 19)}`;
}
