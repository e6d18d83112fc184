/**
 * Admin consent for a Cloud Provider: the link a tenant administrator opens to grant the app's
 * configured permissions for the whole tenant (the application permissions app-only access needs:
 * IMAP.AccessAsApp, SMTP.SendAsApp, Mail.ReadWrite, Mail.Send), and its return on the provider's
 * redirect URI — `admin_consent=True`, or `error` (`permission_denied` when the administrator
 * cancels). The `state` is stored as its sha256, lives a day and is used once; it is not bound to
 * a browser session, because the administrator who consents is often not a Postern user, and the
 * return changes nothing but the record of the outcome and, for an app-only provider, a fresh
 * app token (whose roles then show the consent).
 *
 * @see https://learn.microsoft.com/entra/identity-platform/v2-admin-consent
 * @see https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow#request-the-permissions-from-a-directory-admin
 */
import { randomBytes } from 'node:crypto';
import { PosternError, isPosternError } from '../../errors/index.js';
import { endpointsOf } from '../../providers/microsoft/authority.js';
import {
  appendEvent,
  consumeAdminConsentState,
  createAdminConsentState,
  requireProvider,
  type Database,
  type SecretBox,
} from '../../store/index.js';
import type { SignInService } from './sign-in-service.js';

/** How long an admin-consent link stays usable: long enough to hand it to a tenant administrator. */
export const ADMIN_CONSENT_TTL_MS = 24 * 60 * 60 * 1000;

/** The link to open, and until when. */
export interface AdminConsentLink {
  readonly url: string;
  readonly expiresAt: Date;
}

/** The return of the administrator's browser: which provider, and the outcome. */
export type AdminConsentOutcome =
  | { readonly ok: true; readonly providerId: number; readonly tenant: string | null }
  | { readonly ok: false; readonly providerId: number | null; readonly error: PosternError };

export class AdminConsentService {
  constructor(
    private readonly db: Database,
    private readonly box: SecretBox,
    private readonly signIn: Pick<SignInService, 'signInAsApp'>,
  ) {}

  /**
   * A new admin-consent URL for the provider: `{authority}/{tenant}/v2.0/adminconsent` with the
   * client id, the provider's redirect URI, a one-time state, and `scope={graph}/.default`
   * (`.default` consents to every permission configured on the app registration).
   */
  async link(providerId: number, userId: number | null): Promise<AdminConsentLink> {
    const provider = await requireProvider(this.db, providerId);
    if (provider.redirectUri === null)
      throw new PosternError('VALIDATION_FAILED', {
        message: `Cloud Provider "${provider.name}" has no redirect URI: admin consent returns to it.`,
        remedy: "Set the provider's Redirect URI (Edit) and register it in the Azure portal.",
        details: { in: 'body', fields: [{ field: 'redirectUri', problem: 'is required for admin consent' }] },
      });
    const state = randomBytes(32).toString('base64url');
    const expiresAt = new Date(this.db.now().getTime() + ADMIN_CONSENT_TTL_MS);
    await createAdminConsentState(this.db, this.box, {
      state,
      providerId,
      userId,
      expiresAt,
      filler: randomBytes(32).toString('base64url'),
    });
    const endpoints = endpointsOf(provider);
    const url = new URL(`${endpoints.authority}/${encodeURIComponent(provider.tenantId)}/v2.0/adminconsent`);
    url.searchParams.set('client_id', provider.applicationId);
    url.searchParams.set('scope', `${endpoints.graph}/.default`);
    url.searchParams.set('redirect_uri', provider.redirectUri);
    url.searchParams.set('state', state);
    return { url: url.href, expiresAt };
  }

  /**
   * Handles a return on the redirect URI when its state is an admin-consent state; null when it
   * is not (a sign-in's return, for the sign-in service).
   */
  async complete(parameters: URLSearchParams): Promise<AdminConsentOutcome | null> {
    const state = parameters.get('state');
    if (state === null || state.length === 0 || state.length > 512) return null;
    const consumed = await consumeAdminConsentState(this.db, state);
    if (consumed.outcome === 'unknown') return null;
    const providerId = consumed.state.providerId;
    if (consumed.outcome !== 'ok') {
      return {
        ok: false,
        providerId,
        error: new PosternError('AUTH_STATE_INVALID', {
          message:
            consumed.outcome === 'used'
              ? 'This admin consent link was already used.'
              : 'This admin consent link has expired.',
          remedy: "Open the Cloud Provider's page and create a new admin consent link.",
        }),
      };
    }
    const provider = await requireProvider(this.db, providerId);
    const error = parameters.get('error');
    if (error !== null || parameters.get('admin_consent')?.toLowerCase() !== 'true') {
      const description = (parameters.get('error_description') ?? '').split(/\r?\n/)[0]?.slice(0, 300) ?? '';
      const failure = new PosternError('AUTH_ACCESS_DENIED', {
        message: `Admin consent was not granted${error === null ? '' : ` (${error.slice(0, 60)})`}${description === '' ? '' : `: ${description}`}.`,
        remedy:
          'A Global Administrator, Application Administrator or Cloud Application Administrator of the tenant must open the admin consent link and accept it.',
        details: { error: error ?? 'no admin_consent' },
      });
      await appendEvent(this.db, {
        scope: 'provider',
        scopeId: providerId,
        type: 'provider.admin_consent_failed',
        level: 'error',
        message: `Admin consent for "${provider.name}" was not granted: ${failure.message}`,
        data: { code: failure.code, error: error ?? null },
      });
      return { ok: false, providerId, error: failure };
    }
    const tenant = parameters.get('tenant')?.slice(0, 100) ?? null;
    await appendEvent(this.db, {
      scope: 'provider',
      scopeId: providerId,
      type: 'provider.admin_consent_granted',
      message: `A tenant administrator granted admin consent to "${provider.name}"${tenant === null ? '' : ` for tenant ${tenant}`}.`,
      data: { tenant },
    });
    if (provider.grantType === 'client_credentials') {
      // A fresh app token carries the roles just consented; a failure here is recorded by the sign-in.
      await this.signIn.signInAsApp(providerId).catch((failure: unknown) => {
        if (!isPosternError(failure)) throw failure;
      });
    }
    return { ok: true, providerId, tenant };
  }
}
