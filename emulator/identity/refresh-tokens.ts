/**
 * Refresh tokens: opaque to clients (as Microsoft's are), sealed with AES-256-GCM under the
 * emulator's key so they carry their own facts and survive a restart. A refresh token is bound
 * to user + client, not to a resource; every use returns a new one while the old stays valid
 * until its own 90-day inactivity window ends (clients that ignore rotation die at day 90 with
 * AADSTS700082).
 *
 * @see https://learn.microsoft.com/entra/identity-platform/refresh-tokens
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { ClientType } from './context.js';
import type { RequestedScopes } from './scopes.js';

const PREFIX = '1.AVEA';

const scopesSchema = z.object({
  raw: z.string(),
  oidc: z.array(z.enum(['openid', 'profile', 'email', 'offline_access'])),
  resources: z.array(z.object({ resource: z.enum(['exchange', 'graph']), names: z.array(z.string()) })),
});

const claimsSchema = z.object({
  v: z.literal(1),
  jti: z.string(),
  tid: z.string(),
  appId: z.string(),
  oid: z.string(),
  scopes: scopesSchema,
  clientType: z.enum(['confidential', 'public', 'spa']),
  /** When the user last signed in interactively (start of the session), ms. */
  authTime: z.number(),
  /** When this token was issued, ms. */
  issuedAt: z.number(),
  /** When the first token of the chain was issued (SPA fixed lifetime), ms. */
  chainIssuedAt: z.number(),
  /** The chain's id, kept through rotation (absent from tokens sealed before it existed). */
  chain: z.string().optional(),
  amr: z.array(z.string()),
});

/** What a refresh token knows. */
export interface RefreshTokenClaims {
  v: 1;
  jti: string;
  tid: string;
  appId: string;
  oid: string;
  scopes: RequestedScopes;
  clientType: ClientType;
  authTime: number;
  issuedAt: number;
  chainIssuedAt: number;
  /** The id of the chain (the sign-in) this token was rotated from; refresh-redemptions.ts counts by it. */
  chain?: string;
  amr: string[];
}

/** Seals claims into an opaque refresh token. */
export function sealRefreshToken(key: Buffer, claims: RefreshTokenClaims): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(claims), 'utf8'), cipher.final()]);
  return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64url');
}

/** Opens a refresh token; null when it is not one of ours, truncated, or tampered with. */
export function openRefreshToken(key: Buffer, token: string): RefreshTokenClaims | null {
  if (!token.startsWith(PREFIX)) return null;
  const raw = Buffer.from(token.slice(PREFIX.length), 'base64url');
  if (raw.length < 29) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    const text = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    const parsed = claimsSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
