/**
 * Finding the client application of a token-endpoint request and authenticating it:
 * `client_secret_post`, `client_secret_basic`, or a client assertion signed with one of the app's
 * certificates (`private_key_jwt`, `client-assertion.ts`); a secret is checked against the app's
 * secrets and their expiry on the emulator clock. Public clients must present neither.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow#redeem-a-code-for-an-access-token
 * @see https://learn.microsoft.com/entra/identity-platform/reference-error-codes (7000215, 7000222, 7000218, 700025, 700016)
 */
import type { FastifyRequest } from 'fastify';
import type { AppRegistration } from '../directory/model.js';
import { aadsts } from './aadsts.js';
import type { IdentityContext } from './context.js';
import { verifyClientAssertion } from './client-assertion.js';
import { baseUrlOf, basicCredentials } from './http-support.js';
import type { TenantSegment } from './tenant-segment.js';

/** How a grant requires the client to authenticate. */
export type ClientAuthMode = 'confidential' | 'public' | 'either';

/** Reads `client_id` (body, or the Basic user) and finds the app; unknown → AADSTS700016. */
export function findClient(
  ctx: IdentityContext,
  segment: TenantSegment,
  params: Record<string, string>,
  request: FastifyRequest,
): Readonly<AppRegistration> {
  const clientId = params.client_id ?? basicCredentials(request)?.clientId;
  if (clientId === undefined || clientId.length === 0) throw aadsts(900144, { parameter: 'client_id' });
  const tenantLabel =
    segment.kind === 'tenant'
      ? segment.tenant.id
      : segment.kind === 'consumers'
        ? 'Microsoft Accounts'
        : segment.segment;
  const app = ctx.directory.findApp(clientId);
  if (app === undefined || segment.kind === 'consumers') throw aadsts(700016, { appId: clientId, tenant: tenantLabel });
  return app;
}

/**
 * Checks the app may be used through this tenant segment: a single-tenant app on `/common` or
 * `/organizations` → AADSTS50194; an app without a service principal in the tenant → AADSTS700016.
 */
export function checkAppTenant(ctx: IdentityContext, app: Readonly<AppRegistration>, segment: TenantSegment): void {
  if (segment.kind === 'tenant') {
    if (!ctx.directory.isAppInTenant(segment.tenant.id, app.appId) && app.signInAudience === 'AzureADMyOrg') {
      throw aadsts(700016, { appId: app.appId, tenant: segment.tenant.id });
    }
    return;
  }
  if (app.signInAudience === 'AzureADMyOrg') throw aadsts(50194, { appId: app.appId, appName: app.displayName });
}

/**
 * Authenticates the client. Returns whether it proved a secret or a certificate (`appidacr` 1, 2).
 * - `confidential`: a valid, unexpired secret is required (7000218 / 7000215 / 7000222);
 * - `public`: no secret may be sent (700025);
 * - `either`: a secret is checked when sent; without one the app must allow public client flows (7000218).
 */
export function authenticateClient(
  ctx: IdentityContext,
  app: Readonly<AppRegistration>,
  params: Record<string, string>,
  request: FastifyRequest,
  mode: ClientAuthMode,
): { confidential: boolean } {
  if (params.client_assertion !== undefined || params.client_assertion_type !== undefined) {
    if (mode === 'public') throw aadsts(700025);
    if (params.client_secret !== undefined)
      throw aadsts(50027, {}, { text: 'Both client_secret and client_assertion were sent.' });
    const path = request.url.split('?')[0] ?? '';
    verifyClientAssertion({ app, params, audiences: [`${baseUrlOf(request)}${path}`], nowMs: ctx.clock.nowMs() });
    return { confidential: true };
  }
  const basic = basicCredentials(request);
  if (basic !== undefined && basic.clientId.toLowerCase() !== app.appId) throw aadsts(7000215, { appId: app.appId });
  const presented = params.client_secret ?? basic?.secret;
  const hasSecret = presented !== undefined && presented.length > 0;
  if (mode === 'public' || (mode === 'either' && hasSecret && app.secrets.length === 0 && app.allowPublicClient)) {
    if (hasSecret) throw aadsts(700025);
    return { confidential: false };
  }
  if (!hasSecret) {
    if (mode === 'either' && app.allowPublicClient) return { confidential: false };
    throw aadsts(7000218);
  }
  const secret = app.secrets.find((s) => s.value === presented);
  if (secret === undefined) throw aadsts(7000215, { appId: app.appId });
  if (secret.expiresAt.getTime() <= ctx.clock.nowMs()) throw aadsts(7000222, { appId: app.appId });
  return { confidential: true };
}
