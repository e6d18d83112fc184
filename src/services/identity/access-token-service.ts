import { PosternError, isPosternError } from '../../errors/index.js';
import type { Logger } from '../../log/index.js';
import { endpointsOf, resourceUri, scopesForResource, type Resource } from '../../providers/microsoft/authority.js';
import type { MicrosoftIdentity, ProviderConnection, TokenResult } from '../../providers/microsoft/identity-client.js';
import type { TokenRequestPriority } from '../../providers/microsoft/token-request-limiter.js';
import { PROVIDER_CODES, REAUTH_CODES } from '../../providers/microsoft/token-errors.js';
import {
  appendEvent,
  disconnectAccountsSignedInAs,
  findUsableAccessToken,
  lockGrant,
  openGrantCredentials,
  recordGrantError,
  requireGrant,
  requireProvider,
  setProviderStatus,
  storeRefreshedTokens,
  tryLockGrant,
  type Database,
  type GrantRecord,
  type ProviderRecord,
  type SecretBox,
} from '../../store/index.js';
import { connectionOf } from './provider-service.js';

/** An access token ready to use, with what it is good for. */
export interface AccessToken {
  readonly token: string;
  readonly expiresAt: Date;
  readonly scopes: string[];
  /** The signed-in user (the delegate for a shared mailbox); null for app-only grants. */
  readonly upn: string | null;
}

export interface AccessTokenOptions {
  /** The token must stay valid at least this long; default five minutes. */
  minValidityMs?: number;
}

/**
 * What a renewal ahead of time did: `refreshed`; `fresh` — found, under the grant's lock, that
 * someone had renewed it since the keeper listed it; `busy` — another refresh of the grant is
 * under way (in this process, or on another node holding its row).
 */
export type RenewalOutcome = 'refreshed' | 'fresh' | 'busy';

/** When a grant is due for renewal ahead of time (the token keeper's rule). */
export interface RenewalDue {
  /** Due when the cached token for the resource has less than this left. */
  readonly minValidityMs: number;
  /** Due also when the grant was last refreshed before this (the 90-day inactivity limit). */
  readonly refreshedBefore: Date;
}

/** How one refresh goes: when it is needed, whether a held lock waits, and its place in the pace. */
interface RefreshPolicy {
  readonly minValidityMs: number;
  readonly refreshedBefore?: Date;
  readonly skipLocked: boolean;
  readonly priority: TokenRequestPriority;
}

export const MIN_VALIDITY_MS = 5 * 60 * 1000;
const TRANSIENT_ATTEMPTS = 4;
const BACKOFF_BASE_MS = 250;

/**
 * `accessToken(grant, resource)`: a cached token valid for at least five more minutes, otherwise a
 * refresh — one per grant at a time in this process, and across processes through a row lock on
 * PostgreSQL — storing the rotated refresh token before the new access token is returned.
 * Failures are classified once, here: re-authentication required moves the grant (and the
 * accounts using it) to `reauth_required`/`disconnected`; a misconfigured provider gets status
 * `error`; transient trouble is retried with backoff and leaves the grant `active`.
 */
export class AccessTokenService {
  private readonly flights = new Map<string, Promise<RenewalOutcome>>();

  constructor(
    private readonly db: Database,
    private readonly box: SecretBox,
    private readonly identity: MicrosoftIdentity,
    private readonly logger: Logger,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ) {}

  async accessToken(grantId: number, resource: Resource, options: AccessTokenOptions = {}): Promise<AccessToken> {
    const minValidity = options.minValidityMs ?? MIN_VALIDITY_MS;
    for (let round = 0; round < 3; round += 1) {
      const cached = await this.cached(grantId, resource, minValidity);
      if (cached !== undefined) return cached;
      await this.refreshOnce(grantId, resource, { minValidityMs: minValidity, skipLocked: false, priority: 'demand' });
    }
    throw new PosternError('AUTH_PROVIDER_UNAVAILABLE', {
      message: 'Microsoft returned access tokens that expire too soon to be used.',
      details: { grantId, resource },
    });
  }

  /** Refreshes now even if the cached token is still good (the token keeper's proactive renewal). */
  async refreshNow(grantId: number, resource: Resource): Promise<void> {
    await this.refreshOnce(grantId, resource, {
      minValidityMs: Number.POSITIVE_INFINITY,
      skipLocked: false,
      priority: 'demand',
    });
  }

  /**
   * The token keeper's renewal: refreshes the grant's token for `resource` if it is still due once
   * the grant is held — so that a grant listed by two keepers (two nodes, or two runs) is refreshed
   * once. A grant another refresh holds is left to it (`busy`), never waited for. The request goes
   * at the lowest priority of the node's pace.
   */
  renewIfDue(grantId: number, resource: Resource, due: RenewalDue): Promise<RenewalOutcome> {
    if (this.flights.has(`${grantId}`)) return Promise.resolve('busy');
    return this.refreshOnce(grantId, resource, {
      minValidityMs: due.minValidityMs,
      refreshedBefore: due.refreshedBefore,
      skipLocked: true,
      priority: 'upkeep',
    });
  }

  private async cached(grantId: number, resource: Resource, minValidity: number): Promise<AccessToken | undefined> {
    const grant = await requireGrant(this.db, grantId);
    const provider = await requireProvider(this.db, grant.providerId);
    const cache = await findUsableAccessToken(
      this.db,
      this.box,
      grantId,
      resourceUri(resource, endpointsOf(provider)),
      minValidity,
    );
    if (cache === undefined) return undefined;
    return {
      token: cache.token,
      expiresAt: cache.expiresAt,
      scopes: cache.scopes,
      upn: grant.upn,
    };
  }

  private refreshOnce(grantId: number, resource: Resource, policy: RefreshPolicy): Promise<RenewalOutcome> {
    const key = `${grantId}`;
    const running = this.flights.get(key);
    if (running !== undefined) return running;
    const flight = this.refreshWithRetry(grantId, resource, policy).finally(() => this.flights.delete(key));
    this.flights.set(key, flight);
    return flight;
  }

  private async refreshWithRetry(grantId: number, resource: Resource, policy: RefreshPolicy): Promise<RenewalOutcome> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.refreshLocked(grantId, resource, policy);
      } catch (error) {
        const failure = isPosternError(error) ? error : new PosternError('INTERNAL', { cause: error });
        if (failure.kind !== 'transient' || attempt >= TRANSIENT_ATTEMPTS) throw failure;
        const delay = BACKOFF_BASE_MS * 2 ** (attempt - 1) * (0.5 + Math.random());
        this.logger.warn(
          { grantId, code: failure.code, attempt, delayMs: Math.round(delay) },
          'token refresh failed, retrying',
        );
        await this.sleep(delay);
      }
    }
  }

  private async refreshLocked(grantId: number, resource: Resource, policy: RefreshPolicy): Promise<RenewalOutcome> {
    // On PostgreSQL the row lock makes other processes wait and then find the fresh token (the
    // keeper skips a held row instead); on SQLite (one process) the in-process single flight is
    // enough and no write lock is held across the HTTP call.
    const work = async (tx: Database): Promise<RenewalOutcome> => {
      const grant = policy.skipLocked ? await tryLockGrant(tx, grantId) : await lockGrant(tx, grantId);
      if (grant === undefined) return 'busy';
      const provider = await requireProvider(tx, grant.providerId);
      const endpoints = endpointsOf(provider);
      const usable = await findUsableAccessToken(
        tx,
        this.box,
        grantId,
        resourceUri(resource, endpoints),
        policy.minValidityMs,
      );
      if (usable !== undefined && !refreshedBefore(grant, policy.refreshedBefore)) return 'fresh';
      if (grant.state !== 'active') throw this.stateError(grant);
      let result: TokenResult;
      try {
        result = await this.obtain(connectionOf(provider, this.box), provider, grant, resource, policy.priority);
      } catch (error) {
        throw await this.classify(error, grant, provider);
      }
      await storeRefreshedTokens(tx, this.box, grantId, {
        refreshToken: result.refreshToken,
        resource: resourceUri(resource, endpoints),
        accessToken: result.accessToken,
        scopes: result.scopes,
        expiresAt: result.expiresAt,
      });
      this.logger.info(
        { grantId, providerId: provider.id, resource, expiresAt: result.expiresAt },
        'access token refreshed',
      );
      return 'refreshed';
    };
    return this.db.engine === 'postgres' ? this.db.transaction(work) : work(this.db);
  }

  private async obtain(
    conn: ProviderConnection,
    provider: ProviderRecord,
    grant: GrantRecord,
    resource: Resource,
    priority: TokenRequestPriority,
  ): Promise<TokenResult> {
    const endpoints = endpointsOf(provider);
    const credentials = openGrantCredentials(this.box, grant);
    if (credentials.refreshToken === null && credentials.password === null) {
      return this.identity.clientCredentials(conn, `${resourceUri(resource, endpoints)}/.default`, priority);
    }
    const scopes = scopesForResource(provider.scopes, resource, endpoints);
    if (scopes.length === 0) {
      throw new PosternError('AUTH_SCOPE_INVALID', {
        message: `Cloud Provider "${provider.name}" requests no ${resource === 'exchange' ? 'Exchange (IMAP/SMTP)' : 'Microsoft Graph'} scopes.`,
        remedy: `Add the ${resource === 'exchange' ? 'IMAP.AccessAsUser.All and SMTP.Send' : 'Mail.ReadWrite and Mail.Send'} scopes to the provider and authenticate again.`,
      });
    }
    const requested = [...scopes, 'offline_access'];
    if (credentials.refreshToken !== null) {
      try {
        return await this.identity.refresh(conn, credentials.refreshToken, requested, priority);
      } catch (error) {
        // A password (ROPC) grant can sign in again by itself when its refresh token is refused.
        if (credentials.password === null || !isPosternError(error) || !REAUTH_CODES.has(error.code)) throw error;
      }
    }
    return this.identity.password(conn, grant.upn ?? '', credentials.password ?? '', requested, priority);
  }

  private stateError(grant: GrantRecord): PosternError {
    if (grant.lastError !== null && grant.lastError.code !== '') {
      return new PosternError('AUTH_GRANT_INVALID', {
        message: `The grant of ${grant.upn ?? 'the app'} needs a new sign-in: ${grant.lastError.message}`,
        remedy: grant.lastError.remedy ?? undefined,
        details: {
          grantId: grant.id,
          lastError: grant.lastError.code,
          ...(grant.lastError.aadsts === null ? {} : { aadsts: grant.lastError.aadsts }),
        },
      });
    }
    return new PosternError('AUTH_GRANT_INVALID', { details: { grantId: grant.id } });
  }

  /** Records what a failure means for the grant, the provider and the accounts, and returns it. */
  private async classify(error: unknown, grant: GrantRecord, provider: ProviderRecord): Promise<PosternError> {
    const failure = isPosternError(error) ? error : new PosternError('INTERNAL', { cause: error });
    const aadsts = typeof failure.details?.aadsts === 'string' ? failure.details.aadsts : null;
    const summary = { code: failure.code, message: failure.message, remedy: failure.remedy ?? null, aadsts };
    const who = grant.upn ?? 'the app';
    if (REAUTH_CODES.has(failure.code)) {
      await recordGrantError(this.db, grant.id, 'reauth_required', summary);
      await this.disconnectAccounts(grant, failure);
      await appendEvent(this.db, {
        scope: 'provider',
        scopeId: provider.id,
        type: 'grant.reauth_required',
        level: 'error',
        message: `Re-authentication required for ${who}: ${failure.message}`,
        data: {
          grantId: grant.id,
          code: failure.code,
          ...(aadsts === null ? {} : { aadsts }),
          remedy: failure.remedy ?? null,
        },
      });
      this.logger.warn(
        { grantId: grant.id, providerId: provider.id, code: failure.code, aadsts },
        'grant needs re-authentication',
      );
    } else if (PROVIDER_CODES.has(failure.code)) {
      await setProviderStatus(this.db, provider.id, 'error', {
        code: failure.code,
        message: failure.message,
        remedy: failure.remedy ?? null,
      });
      await recordGrantError(this.db, grant.id, 'active', summary);
      await appendEvent(this.db, {
        scope: 'provider',
        scopeId: provider.id,
        type: 'provider.error',
        level: 'error',
        message: `Cloud Provider "${provider.name}": ${failure.message}`,
        data: {
          grantId: grant.id,
          code: failure.code,
          ...(aadsts === null ? {} : { aadsts }),
          remedy: failure.remedy ?? null,
        },
      });
      this.logger.error({ providerId: provider.id, code: failure.code, aadsts }, 'cloud provider misconfigured');
    } else {
      await recordGrantError(this.db, grant.id, 'active', summary);
      this.logger.warn({ grantId: grant.id, code: failure.code }, 'token endpoint trouble');
    }
    return failure;
  }

  /** The accounts that sign in with this grant become `disconnected`, with the reason. */
  private async disconnectAccounts(grant: GrantRecord, failure: PosternError): Promise<void> {
    if (grant.upn === null) return;
    await disconnectAccountsSignedInAs(this.db, grant.providerId, grant.upn, {
      code: failure.code,
      message: failure.message,
      remedy: failure.remedy ?? null,
    });
  }
}

/** Whether the grant was last refreshed before `when` (never refreshed counts); false without a bound. */
function refreshedBefore(grant: GrantRecord, when: Date | undefined): boolean {
  if (when === undefined) return false;
  return grant.lastRefreshAt === null || Date.parse(grant.lastRefreshAt) < when.getTime();
}
