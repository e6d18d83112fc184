import { randomUUID } from 'node:crypto';
import { importPKCS8 } from 'jose';
import * as oidc from 'openid-client';
import { PosternError, isPosternError } from '../../errors/index.js';
import { discoveryUrl, type AuthorityInput } from './authority.js';
import { certificateFacts, type ClientCertificate } from './client-certificate.js';
import { createFetch, type CustomFetch } from './http-fetch.js';
import type { TokenRequestLimiter, TokenRequestPriority } from './token-request-limiter.js';
import { z } from 'zod';
import { classifyMicrosoftError, type MicrosoftErrorBody } from './token-errors.js';

/** What the identity adapter needs of a Cloud Provider, with the secret opened. */
export interface ProviderConnection extends AuthorityInput {
  readonly providerId: number;
  /** Changes whenever the provider changes, so that cached configurations are refreshed. */
  readonly version: string;
  readonly applicationId: string;
  readonly clientSecret: string | null;
  /** The certificate credential, when the provider has one instead of a secret. */
  readonly clientCertificate: ClientCertificate | null;
  readonly redirectUri: string;
  readonly caFile: string | null;
}

/** A token endpoint answer, reduced to what Postern keeps. */
export interface TokenResult {
  readonly accessToken: string;
  readonly refreshToken: string | null;
  readonly expiresAt: Date;
  readonly scopes: string[];
  readonly idTokenClaims: IdentityClaims | null;
}

export interface IdentityClaims {
  readonly objectId: string | null;
  readonly tenantId: string | null;
  readonly upn: string | null;
  readonly email: string | null;
  readonly name: string | null;
}

export interface DeviceCodeStart {
  readonly userCode: string;
  readonly verificationUri: string;
  readonly expiresIn: number;
  readonly interval: number;
  readonly message: string;
  /** When the code was issued (wall clock, ms): polling stops at `startedAt + expiresIn`. */
  readonly startedAt: number;
  /** Opaque: passed back to `pollDeviceCode`. */
  readonly handle: oidc.DeviceAuthorizationResponse;
}

/** The longest pause between two polls of a device code after Entra saw a request loop. */
const DEVICE_POLL_MAX_INTERVAL_SECONDS = 60;

const DISCOVERY_TTL_MS = 60 * 60 * 1000;

export interface MicrosoftIdentityOptions {
  readonly timeoutMs: number;
  readonly now?: () => number;
  /**
   * Paces every POST to the identity platform (token and device-code endpoints; discovery and
   * keys are cached GETs and go freely): one limiter per node.
   */
  readonly limiter?: TokenRequestLimiter;
}

/**
 * The Microsoft identity platform as Postern uses it, on openid-client: one step per exchange,
 * every failure translated at this edge into a catalogue error (`classifyMicrosoftError`).
 *
 * @see https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow
 */
export class MicrosoftIdentity {
  private readonly configs = new Map<number, { key: string; at: number; config: Promise<Discovered> }>();

  constructor(private readonly options: MicrosoftIdentityOptions = { timeoutMs: 15_000 }) {}

  /** The authorize URL for a sign-in with PKCE (S256), state and nonce. */
  async authorizationUrl(
    conn: ProviderConnection,
    request: {
      state: string;
      codeVerifier: string;
      nonce: string;
      scopes: readonly string[];
      loginHint?: string | null;
      prompt?: string;
    },
  ): Promise<URL> {
    const config = await this.configuration(conn, 'interactive');
    const parameters: Record<string, string> = {
      redirect_uri: conn.redirectUri,
      response_type: 'code',
      response_mode: 'query',
      scope: request.scopes.join(' '),
      state: request.state,
      nonce: request.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(request.codeVerifier),
      code_challenge_method: 'S256',
    };
    if (request.loginHint) parameters.login_hint = request.loginHint;
    if (request.prompt) parameters.prompt = request.prompt;
    return oidc.buildAuthorizationUrl(config, parameters);
  }

  /** Redeems the code of a callback, checking state, PKCE and the ID token (issuer, audience, nonce, expiry). */
  async redeemCode(
    conn: ProviderConnection,
    callbackParameters: URLSearchParams,
    checks: { state: string; codeVerifier: string; nonce: string },
  ): Promise<TokenResult> {
    const config = await this.configuration(conn, 'interactive');
    // openid-client sends as redirect_uri this URL without its query: the registered URI.
    const currentUrl = new URL(conn.redirectUri);
    currentUrl.search = callbackParameters.toString();
    return this.call(async () =>
      toResult(
        await oidc.authorizationCodeGrant(config, currentUrl, {
          pkceCodeVerifier: checks.codeVerifier,
          expectedState: checks.state,
          expectedNonce: checks.nonce,
          idTokenExpected: true,
        }),
        this.now(),
      ),
    );
  }

  /** Exchanges a refresh token for an access token of one resource; Microsoft rotates the refresh token. */
  async refresh(
    conn: ProviderConnection,
    refreshToken: string,
    scopes: readonly string[],
    priority: TokenRequestPriority = 'demand',
  ): Promise<TokenResult> {
    const config = await this.configuration(conn, priority);
    return this.call(async () =>
      toResult(await oidc.refreshTokenGrant(config, refreshToken, { scope: scopes.join(' ') }), this.now()),
    );
  }

  /** App-only token for `{resource}/.default`; no refresh token. */
  async clientCredentials(
    conn: ProviderConnection,
    scope: string,
    priority: TokenRequestPriority = 'demand',
  ): Promise<TokenResult> {
    const config = await this.configuration(conn, priority);
    return this.call(async () => toResult(await oidc.clientCredentialsGrant(config, { scope }), this.now()));
  }

  /** Resource owner password credentials (public clients only; no MFA). */
  async password(
    conn: ProviderConnection,
    username: string,
    password: string,
    scopes: readonly string[],
    priority: TokenRequestPriority = 'demand',
  ): Promise<TokenResult> {
    const config = await this.configuration(conn, priority);
    return this.call(async () =>
      toResult(
        await oidc.genericGrantRequest(config, 'password', { username, password, scope: scopes.join(' ') }),
        this.now(),
      ),
    );
  }

  async startDeviceCode(conn: ProviderConnection, scopes: readonly string[]): Promise<DeviceCodeStart> {
    const config = await this.configuration(conn, 'interactive');
    return this.call(async () => {
      const handle = await oidc.initiateDeviceAuthorization(config, { scope: scopes.join(' ') });
      const message =
        typeof handle.message === 'string'
          ? handle.message
          : `Open ${handle.verification_uri} and enter the code ${handle.user_code}.`;
      return {
        userCode: handle.user_code,
        verificationUri: handle.verification_uri,
        expiresIn: handle.expires_in,
        interval: handle.interval ?? 5,
        message,
        startedAt: Date.now(),
        handle,
      };
    });
  }

  /**
   * Polls until the user finishes (honouring `interval`, `slow_down` and expiry), or fails. Entra
   * answers a poll it finds too soon with its loop detection (AADSTS50196) rather than RFC 8628's
   * `slow_down`: polling goes on at twice the interval (at most a minute) until the code expires.
   */
  async pollDeviceCode(conn: ProviderConnection, start: DeviceCodeStart, signal?: AbortSignal): Promise<TokenResult> {
    const config = await this.configuration(conn, 'interactive');
    let interval = start.interval;
    for (;;) {
      const remainingSeconds = Math.ceil((start.startedAt + start.expiresIn * 1000 - Date.now()) / 1000);
      // The library waits `interval` before each poll and gives up after `expires_in`; each poll
      // is a token request, paced like any other.
      const handle = { ...start.handle, interval, expires_in: Math.max(remainingSeconds, 1) };
      try {
        return await this.call(async () =>
          toResult(
            await oidc.pollDeviceAuthorizationGrant(config, handle, undefined, signal === undefined ? {} : { signal }),
            this.now(),
          ),
        );
      } catch (error) {
        const loop = isPosternError(error) && error.code === 'AUTH_REQUEST_LOOP';
        if (!loop || signal?.aborted === true || remainingSeconds <= interval) throw error;
        interval = Math.min(interval * 2, DEVICE_POLL_MAX_INTERVAL_SECONDS);
      }
    }
  }

  /** Fetches the authority's discovery document now (the doctor's configuration check). */
  async discover(
    conn: ProviderConnection,
  ): Promise<{ issuer: string; tokenEndpoint: string; authorizationEndpoint: string }> {
    this.forget(conn.providerId);
    const metadata = (await this.configuration(conn)).serverMetadata();
    return {
      issuer: metadata.issuer,
      tokenEndpoint: metadata.token_endpoint ?? '',
      authorizationEndpoint: metadata.authorization_endpoint ?? '',
    };
  }

  /** Forgets the cached discovery of a provider (after an edit). */
  forget(providerId: number): void {
    this.configs.delete(providerId);
  }

  /**
   * The provider's configuration for exchanges at `priority`: discovered once per provider (and
   * cached), then one configuration per priority whose fetch waits for the limiter at that
   * priority. (The priority used to travel in an AsyncLocalStorage, which turned on promise hooks
   * for the whole process: every promise of every mailbox paid for them.)
   */
  private async configuration(
    conn: ProviderConnection,
    priority: TokenRequestPriority = 'demand',
  ): Promise<oidc.Configuration> {
    // ID tokens are judged by Postern's clock, which tests move; in production the skew is 0.
    const skewSeconds = Math.round((this.now() - Date.now()) / 1000);
    const key = `${conn.version}|${skewSeconds}`;
    let cached = this.configs.get(conn.providerId);
    if (cached === undefined || cached.key !== key || this.now() - cached.at >= DISCOVERY_TTL_MS) {
      const config = this.call(() => discover(conn, this.options.timeoutMs, skewSeconds, this.options.limiter));
      config.catch(() => this.configs.delete(conn.providerId));
      cached = { key, at: this.now(), config };
      this.configs.set(conn.providerId, cached);
    }
    const discovered = cached.config;
    return this.call(async () => (await discovered).at(priority));
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  /** Runs one exchange, its failures translated. */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw await translate(error);
    }
  }
}

/** A provider's discovered configuration, one per priority of token request. */
interface Discovered {
  at(priority: TokenRequestPriority): Promise<oidc.Configuration>;
}

async function discover(
  conn: ProviderConnection,
  timeoutMs: number,
  skewSeconds: number,
  limiter: TokenRequestLimiter | undefined,
): Promise<Discovered> {
  const authentication =
    conn.clientCertificate !== null
      ? await certificateAssertion(conn.clientCertificate)
      : conn.clientSecret === null
        ? oidc.None()
        : oidc.ClientSecretPost(conn.clientSecret);
  const metadata: Partial<oidc.ClientMetadata> = skewSeconds === 0 ? {} : { [oidc.clockSkew]: skewSeconds };
  const fetch = createFetch({ caFile: conn.caFile, timeoutMs });
  const once = (customFetch: CustomFetch): Promise<oidc.Configuration> =>
    oidc.discovery(discoveryUrl(conn), conn.applicationId, metadata, authentication, {
      [oidc.customFetch]: customFetch,
      timeout: Math.ceil(timeoutMs / 1000),
    });
  if (limiter === undefined) {
    const config = await once(fetch);
    return { at: () => Promise.resolve(config) };
  }
  // Each priority discovers on its own: openid-client keeps what discovery learnt inside the
  // configuration (Entra's multi-tenant issuer, `{tenantid}` in it, among that), and a copy made
  // from the metadata alone refused the ID tokens of such an authority.
  const variants = new Map<TokenRequestPriority, Promise<oidc.Configuration>>();
  const at = (priority: TokenRequestPriority): Promise<oidc.Configuration> => {
    let config = variants.get(priority);
    if (config === undefined) {
      config = once(pacedFetch(fetch, limiter, priority));
      config.catch(() => variants.delete(priority));
      variants.set(priority, config);
    }
    return config;
  };
  // The authority is checked when the provider is first used, as it was with one configuration.
  await at('demand');
  return { at };
}

/**
 * The fetch of a provider's configuration for one priority: every POST (a token or device-code
 * request) waits for the node's limiter at that priority. The request's timeout starts once it
 * is let through.
 */
function pacedFetch(fetch: CustomFetch, limiter: TokenRequestLimiter, priority: TokenRequestPriority): CustomFetch {
  return async (url, init) => {
    if (init.method.toUpperCase() === 'POST') await limiter.acquire(priority);
    return fetch(url, init);
  };
}

/** Lifetime of a client assertion (Microsoft accepts up to 10 minutes). */
const ASSERTION_LIFETIME_SECONDS = 300;

/**
 * `private_key_jwt` as Microsoft wants it, on openid-client's `PrivateKeyJwt`: RS256, the
 * certificate named by `x5t#S256` (base64url SHA-256 of its DER) rather than a `kid`, `aud` the
 * token endpoint (not the issuer, openid-client's default), `iss` = `sub` = the client id, a GUID
 * `jti`, and a five-minute life. The key is imported once per configuration (discovery).
 *
 * @see https://learn.microsoft.com/entra/identity-platform/certificate-credentials#assertion-format
 */
async function certificateAssertion(credential: ClientCertificate): Promise<oidc.ClientAuth> {
  const { x5tS256 } = certificateFacts(credential.certificatePem);
  const key = await importPKCS8(credential.privateKeyPem, 'RS256');
  // The audience is the token endpoint, known only per request: one PrivateKeyJwt per call. Its
  // signing is asynchronous; openid-client awaits what a client authentication returns.
  return (as, client, body, headers) =>
    oidc.PrivateKeyJwt(key, {
      [oidc.modifyAssertion]: (header, payload) => {
        delete header.kid;
        header.typ = 'JWT';
        header['x5t#S256'] = x5tS256;
        payload.aud = as.token_endpoint ?? as.issuer;
        payload.jti = randomUUID();
        const now = typeof payload.iat === 'number' ? payload.iat : Math.floor(Date.now() / 1000);
        payload.nbf = now;
        payload.exp = now + ASSERTION_LIFETIME_SECONDS;
      },
    })(as, client, body, headers);
}

function toResult(
  response: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers,
  nowMs: number,
): TokenResult {
  const claims = response.claims();
  const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);
  return {
    accessToken: response.access_token,
    refreshToken: response.refresh_token ?? null,
    expiresAt: new Date(nowMs + (Number(response.expires_in ?? 3600) || 3600) * 1000),
    scopes: (response.scope ?? '').split(' ').filter(Boolean),
    idTokenClaims:
      claims === undefined
        ? null
        : {
            objectId: text(claims.oid) ?? text(claims.sub),
            tenantId: text(claims.tid),
            upn: text(claims.preferred_username) ?? text(claims.upn),
            email: text(claims.email),
            name: text(claims.name),
          },
  };
}

/** Errors of openid-client and the network, translated to the catalogue. */
async function translate(error: unknown): Promise<PosternError> {
  if (isPosternError(error)) return error;
  // openid-client wraps what its fetch threw ("something went wrong"); the fetch's own error —
  // an unreachable endpoint named with its cause (http-fetch.ts) — is the one to tell.
  const wrapped = posternCause(error);
  if (wrapped !== undefined) return wrapped;
  // A non-200 answer where openid-client expected a document (discovery: an unknown tenant is a
  // 400 with AADSTS90002): the body is Microsoft's error JSON, unread; read it for the AADSTS code.
  const refusal = await microsoftErrorOf(error);
  if (refusal !== null) return withCause(classifyMicrosoftError(refusal.body, refusal.status), error);
  if (error instanceof oidc.ResponseBodyError) {
    const body = error.cause;
    const codes = Array.isArray(body.error_codes)
      ? body.error_codes.filter((c): c is number => typeof c === 'number')
      : undefined;
    return withCause(
      classifyMicrosoftError(
        {
          error: error.error,
          error_description: error.error_description,
          error_codes: codes,
          suberror: typeof body.suberror === 'string' ? body.suberror : undefined,
          trace_id: typeof body.trace_id === 'string' ? body.trace_id : undefined,
          correlation_id: typeof body.correlation_id === 'string' ? body.correlation_id : undefined,
        },
        error.status,
      ),
      error,
    );
  }
  if (error instanceof oidc.AuthorizationResponseError) {
    return withCause(
      classifyMicrosoftError({ error: error.error, error_description: error.error_description ?? undefined }),
      error,
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : '';
  if (/JWT|ID Token|"iss"|"aud"|nonce|claim/i.test(message) && code.startsWith('OAUTH_')) {
    return new PosternError('AUTH_ID_TOKEN_INVALID', {
      message: `The ID token did not validate: ${message}.`,
      cause: error,
    });
  }
  if (code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' || code === 'OAUTH_RESPONSE_IS_NOT_JSON') {
    return new PosternError('AUTH_PROVIDER_UNAVAILABLE', {
      message: `Microsoft's identity service answered unexpectedly: ${message}.`,
      cause: error,
    });
  }
  return new PosternError('AUTH_PROVIDER_UNAVAILABLE', {
    message: `Microsoft's identity service could not be reached: ${message}.`,
    cause: error,
  });
}

/** A PosternError somewhere in the cause chain of an error, if any. */
function posternCause(error: unknown): PosternError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4; depth += 1) {
    if (typeof current !== 'object' || current === null || !('cause' in current)) return undefined;
    current = current.cause;
    if (isPosternError(current)) return current;
  }
  return undefined;
}

const errorBodySchema = z.object({
  error: z.string().min(1).max(200),
  error_description: z.string().max(4000).optional(),
  error_codes: z.array(z.number()).max(20).optional(),
  suberror: z.string().max(200).optional(),
  trace_id: z.string().max(200).optional(),
  correlation_id: z.string().max(200).optional(),
});

/**
 * Microsoft's error body behind openid-client's "unexpected HTTP response status code" (its
 * `cause` is the unread Response), or null when there is none (not JSON, not an error body).
 */
async function microsoftErrorOf(error: unknown): Promise<{ body: MicrosoftErrorBody; status: number } | null> {
  if (!(error instanceof Error) || !('code' in error) || error.code !== 'OAUTH_RESPONSE_IS_NOT_CONFORM') return null;
  const response = error.cause;
  // undici's Response (the custom fetch's) is not the global class: checked by shape.
  if (!isResponseLike(response) || response.status < 400 || response.bodyUsed) return null;
  let json: unknown;
  try {
    json = JSON.parse(await response.text());
  } catch {
    return null;
  }
  const parsed = errorBodySchema.safeParse(json);
  return parsed.success ? { body: parsed.data, status: response.status } : null;
}

function isResponseLike(value: unknown): value is Pick<Response, 'status' | 'bodyUsed' | 'text'> {
  return (
    typeof value === 'object' &&
    value !== null &&
    'status' in value &&
    typeof value.status === 'number' &&
    'bodyUsed' in value &&
    typeof value.bodyUsed === 'boolean' &&
    'text' in value &&
    typeof value.text === 'function'
  );
}

function withCause(mapped: PosternError, cause: unknown): PosternError {
  return new PosternError(mapped.code, {
    message: mapped.message,
    remedy: mapped.remedy,
    details: mapped.details,
    cause,
  });
}
