import type { Logger } from '../log/index.js';
import type { Resource } from '../providers/microsoft/authority.js';
import type { AccessTokenService } from '../services/access-token-service.js';
import { SECRET_WARNING_DAYS } from '../services/provider-service.js';
import {
  appendEvent,
  deleteExpiredSessions,
  deleteStaleOAuthStates,
  grantsDueForRefresh,
  listEvents,
  listProviders,
  requireGrant,
  type Database,
} from '../store/index.js';

const DAY_MS = 86_400_000;

export interface TokenKeeperOptions {
  /** How often the keeper runs. Default one minute. */
  intervalMs?: number;
  /** Access tokens of grants in use are renewed when they have less than this left. Default 10 minutes. */
  renewBeforeMs?: number;
  /** A grant not refreshed for this long is refreshed to stay clear of the 90-day inactivity limit. Default 14 days. */
  keepAliveAfterMs?: number;
}

export interface KeeperReport {
  refreshed: number;
  failed: number;
  secretWarnings: number;
}

/** Thresholds (days before expiry) at which a secret warning is raised, once each. */
const SECRET_THRESHOLDS = [SECRET_WARNING_DAYS, 14, 7, 1, 0];

/**
 * The token keeper (worker role): renews access tokens of grants in use before they expire, so that
 * IMAP sessions can be renewed before Exchange ends them; refreshes unused grants well inside the
 * 90-day inactivity limit; warns before client secrets expire; sweeps stale sign-ins and sessions.
 */
export class TokenKeeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<KeeperReport> | undefined;

  constructor(
    private readonly db: Database,
    private readonly accessTokens: AccessTokenService,
    private readonly logger: Logger,
    private readonly options: TokenKeeperOptions = {},
  ) {}

  start(): void {
    const interval = this.options.intervalMs ?? 60_000;
    const tick = (): void => {
      this.running = this.runOnce()
        .catch((error: unknown) => {
          this.logger.error({ err: error }, 'token keeper run failed');
          return { refreshed: 0, failed: 0, secretWarnings: 0 };
        })
        .finally(() => {
          this.running = undefined;
          if (this.timer !== undefined) this.timer = setTimeout(tick, interval).unref();
        });
    };
    this.timer = setTimeout(tick, 1000).unref();
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  async runOnce(): Promise<KeeperReport> {
    const now = this.db.now().getTime();
    const due = await grantsDueForRefresh(this.db, {
      expiringBefore: new Date(now + (this.options.renewBeforeMs ?? 10 * 60 * 1000)),
      idleSince: new Date(now - (this.options.keepAliveAfterMs ?? 14 * DAY_MS)),
    });
    let refreshed = 0;
    let failed = 0;
    const done = new Set<string>();
    const refresh = async (grantId: number, resource: Resource): Promise<void> => {
      const key = `${grantId}:${resource}`;
      if (done.has(key)) return;
      done.add(key);
      try {
        await this.accessTokens.refreshNow(grantId, resource);
        refreshed += 1;
      } catch (error) {
        failed += 1;
        this.logger.warn({ grantId, err: error }, 'token keeper could not refresh a grant');
      }
    };
    // Expiring tokens are renewed only for grants an active account uses.
    for (const item of due.expiring) {
      if (await this.inUse(item.grantId))
        await refresh(item.grantId, item.resource.includes('graph') ? 'graph' : 'exchange');
    }
    for (const grantId of due.idle) await refresh(grantId, 'exchange');
    const secretWarnings = await this.watchSecrets(now);
    await deleteStaleOAuthStates(this.db);
    await deleteExpiredSessions(this.db);
    return { refreshed, failed, secretWarnings };
  }

  private async inUse(grantId: number): Promise<boolean> {
    const grant = await requireGrant(this.db, grantId);
    let query = this.db.kysely
      .selectFrom('email_accounts')
      .select('id')
      .where('provider_id', '=', grant.providerId)
      .where('active', '=', 1);
    if (grant.upn !== null) {
      const upn = grant.upn.toLowerCase();
      query = query.where((eb) => eb(eb.fn('lower', [eb.fn.coalesce('modern_auth_email', 'username')]), '=', upn));
    }
    return (await query.executeTakeFirst()) !== undefined;
  }

  /** Raises `provider.secret_expiring` at each threshold once, and `provider.secret_expired` once. */
  private async watchSecrets(now: number): Promise<number> {
    let raised = 0;
    for (const provider of await listProviders(this.db)) {
      if (provider.clientSecretExpiresAt === null) continue;
      const leftMs = Date.parse(provider.clientSecretExpiresAt) - now;
      const daysLeft = Math.floor(leftMs / DAY_MS);
      const threshold = leftMs <= 0 ? 0 : SECRET_THRESHOLDS.filter((t) => t > 0 && daysLeft < t).at(-1);
      if (threshold === undefined) continue;
      const type = leftMs <= 0 ? 'provider.secret_expired' : 'provider.secret_expiring';
      const previous = await listEvents(this.db, { scope: 'provider', scopeId: provider.id, types: [type], limit: 20 });
      if (
        previous.items.some(
          (event) => event.data?.threshold === threshold && event.data.expiresAt === provider.clientSecretExpiresAt,
        )
      )
        continue;
      const message =
        leftMs <= 0
          ? `The client secret of "${provider.name}" has expired. Generate a new one in the Azure portal and use Update Client Secret.`
          : `The client secret of "${provider.name}" expires in ${daysLeft} day(s), on ${provider.clientSecretExpiresAt.slice(0, 10)}. Generate a new one in the Azure portal and use Update Client Secret.`;
      await appendEvent(this.db, {
        scope: 'provider',
        scopeId: provider.id,
        type,
        level: leftMs <= 0 ? 'error' : 'warn',
        message,
        data: { threshold, daysLeft, expiresAt: provider.clientSecretExpiresAt },
      });
      this.logger.warn({ providerId: provider.id, daysLeft }, 'client secret expiring');
      raised += 1;
    }
    return raised;
  }
}
