import { z } from 'zod';

/**
 * What an access token says about itself. Exchange Online tokens are JWTs a client may read (not
 * verify: their header carries a nonce); the doctor reads `scp`/`roles` and the user to compare
 * them with what the transport needs.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference
 */
const claimsSchema = z
  .object({
    aud: z.string().optional(),
    scp: z.string().optional(),
    roles: z.array(z.string()).optional(),
    upn: z.string().optional(),
    unique_name: z.string().optional(),
    preferred_username: z.string().optional(),
    oid: z.string().optional(),
    appid: z.string().optional(),
    tid: z.string().optional(),
    exp: z.number().optional(),
  })
  .loose();

export interface TokenClaims {
  audience: string | null;
  scopes: string[];
  roles: string[];
  user: string | null;
  /** `oid`: the user's object id, or for an app-only token its service principal's (Enterprise application). */
  objectId: string | null;
  /** `appid`: the client application. */
  appId: string | null;
}

/**
 * The `aud` values of Exchange Online tokens: the resource as it was requested (Entra echoes the
 * identifier the scope named — `https://outlook.office.com`, `https://outlook.office365.com`,
 * `https://ps.outlook.com` are all seen in the field), Exchange's application id, and the
 * national clouds' hosts (US Government GCC High and DoD, China operated by 21Vianet).
 */
const EXCHANGE_AUDIENCES = new Set([
  'https://outlook.office.com',
  'https://outlook.office365.com',
  'https://ps.outlook.com',
  '00000002-0000-0ff1-ce00-000000000000',
  'https://outlook.office365.us',
  'https://outlook-dod.office365.us',
  'https://partner.outlook.cn',
]);

/** Whether a token's audience is Exchange Online (any of its identifiers, a trailing slash allowed). */
export function isExchangeAudience(audience: string): boolean {
  const normalized = audience.trim().toLowerCase();
  return EXCHANGE_AUDIENCES.has(normalized.endsWith('/') ? normalized.slice(0, -1) : normalized);
}

/** The claims of a JWT access token, or null when the token is not a readable JWT. */
export function readTokenClaims(token: string): TokenClaims | null {
  const payload = token.split('.')[1];
  if (payload === undefined) return null;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  const parsed = claimsSchema.safeParse(json);
  if (!parsed.success) return null;
  const claims = parsed.data;
  return {
    audience: claims.aud ?? null,
    scopes: (claims.scp ?? '').split(' ').filter(Boolean),
    roles: claims.roles ?? [],
    user: claims.upn ?? claims.unique_name ?? claims.preferred_username ?? null,
    objectId: claims.oid ?? null,
    appId: claims.appid ?? null,
  };
}

/** The permission names (without resource prefix) a token carries. */
export function shortNames(values: readonly string[]): Set<string> {
  return new Set(values.map((value) => value.split('/').pop()?.toLowerCase() ?? value.toLowerCase()));
}
