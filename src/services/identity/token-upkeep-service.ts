/**
 * What the token keeper (workers/token-keeper.ts) does to the store, as use cases: find the grants
 * due for a refresh and whether an active account uses them, refresh one, raise the client-secret
 * expiry warnings once per threshold, and sweep stale sign-ins and expired sessions. The keeper
 * decides when; this service decides what.
 */
import type { Resource } from '../../providers/microsoft/authority.js';
import {
  appendEvent,
  deleteExpiredSessions,
  deleteStaleOAuthStates,
  grantsDueForRefresh,
  hasActiveAccountForGrant,
  listEvents,
  listProviders,
  requireGrant,
  type Database,
  type ProviderRecord,
} from '../../store/index.js';
import type { AccessTokenService, RenewalDue, RenewalOutcome } from './access-token-service.js';
import { SECRET_WARNING_DAYS } from './provider-service.js';

export type { Resource } from '../../providers/microsoft/authority.js';
export type { RenewalDue, RenewalOutcome } from './access-token-service.js';

const DAY_MS = 86_400_000;

/** Thresholds (days before expiry) at which a secret warning is raised, once each. */
const SECRET_THRESHOLDS = [SECRET_WARNING_DAYS, 14, 7, 1, 0];

/** Grants whose access token runs out soon, and grants not refreshed for long. */
export interface GrantsDue {
  readonly expiring: ReadonlyArray<{ readonly grantId: number; readonly resource: Resource }>;
  readonly idle: readonly number[];
}

/** One client-secret warning raised. */
export interface SecretWarning {
  readonly providerId: number;
  readonly daysLeft: number;
}

/** The token keeper's use cases. */
export class TokenUpkeepService {
  constructor(
    private readonly db: Database,
    private readonly accessTokens: Pick<AccessTokenService, 'renewIfDue'>,
  ) {}

  /** The database clock (tests move it). */
  now(): Date {
    return this.db.now();
  }

  /** Grants with an access token expiring before `expiringBefore`, and grants idle since `idleSince`. */
  async grantsDue(options: { expiringBefore: Date; idleSince: Date }): Promise<GrantsDue> {
    const due = await grantsDueForRefresh(this.db, options);
    return {
      expiring: due.expiring.map((item) => ({
        grantId: item.grantId,
        resource: item.resource.includes('graph') ? 'graph' : 'exchange',
      })),
      idle: due.idle,
    };
  }

  /** Whether an active email account signs in with this grant. */
  async isGrantInUse(grantId: number): Promise<boolean> {
    const grant = await requireGrant(this.db, grantId);
    return hasActiveAccountForGrant(this.db, grant);
  }

  /**
   * Refreshes the grant's token for `resource` if it is still `due` once the grant is held, at the
   * lowest priority of the node's pace; a grant being refreshed elsewhere is left alone.
   */
  renew(grantId: number, resource: Resource, due: RenewalDue): Promise<RenewalOutcome> {
    return this.accessTokens.renewIfDue(grantId, resource, due);
  }

  /**
   * Raises `provider.secret_expiring` at each threshold once, and `provider.secret_expired` once —
   * and likewise `provider.certificate_expiring` / `provider.certificate_expired` for a certificate
   * credential; returns the warnings raised now.
   */
  async warnExpiringSecrets(now: number): Promise<SecretWarning[]> {
    const raised: SecretWarning[] = [];
    for (const provider of await listProviders(this.db)) {
      const credential = credentialExpiry(provider);
      if (credential === null) continue;
      const { expiresAt, kind } = credential;
      const leftMs = Date.parse(expiresAt) - now;
      const daysLeft = Math.floor(leftMs / DAY_MS);
      const threshold = leftMs <= 0 ? 0 : SECRET_THRESHOLDS.filter((t) => t > 0 && daysLeft < t).at(-1);
      if (threshold === undefined) continue;
      const type = `provider.${kind}_${leftMs <= 0 ? 'expired' : 'expiring'}`;
      const previous = await listEvents(this.db, { scope: 'provider', scopeId: provider.id, types: [type], limit: 20 });
      if (previous.items.some((event) => event.data?.threshold === threshold && event.data.expiresAt === expiresAt))
        continue;
      const what = kind === 'secret' ? 'client secret' : 'certificate';
      const remedy =
        kind === 'secret'
          ? 'Generate a new one in the Azure portal and use Update Client Secret.'
          : 'Generate or upload a new certificate on the Cloud Provider and upload its certificate to the app registration in the Azure portal.';
      const message =
        leftMs <= 0
          ? `The ${what} of "${provider.name}" has expired. ${remedy}`
          : `The ${what} of "${provider.name}" expires in ${daysLeft} day(s), on ${expiresAt.slice(0, 10)}. ${remedy}`;
      await appendEvent(this.db, {
        scope: 'provider',
        scopeId: provider.id,
        type,
        level: leftMs <= 0 ? 'error' : 'warn',
        message,
        data: { threshold, daysLeft, expiresAt },
      });
      raised.push({ providerId: provider.id, daysLeft });
    }
    return raised;
  }

  /** Deletes sign-ins never completed and sessions past their expiry. */
  async sweepExpiredSignIns(): Promise<void> {
    await deleteStaleOAuthStates(this.db);
    await deleteExpiredSessions(this.db);
  }
}

/** The expiry the keeper watches: the certificate's, else the client secret's. */
function credentialExpiry(provider: ProviderRecord): { kind: 'secret' | 'certificate'; expiresAt: string } | null {
  if (provider.clientCertificateExpiresAt !== null)
    return { kind: 'certificate', expiresAt: provider.clientCertificateExpiresAt };
  if (provider.clientSecretExpiresAt !== null) return { kind: 'secret', expiresAt: provider.clientSecretExpiresAt };
  return null;
}
