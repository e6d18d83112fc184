/**
 * `GET|POST /{tenant}/oauth2/v2.0/authorize`, the admin-consent endpoints and logout.
 *
 * Errors about the client or its redirect URI (unknown tenant 90002, unknown app 700016, missing
 * or unregistered redirect URI 900971 / 50011) are shown on the page and never redirected: the
 * redirect target cannot be trusted. Every later error is redirected with `error`, the framed
 * `error_description`, `error_uri` and `state`.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow#request-an-authorization-code
 * @see https://learn.microsoft.com/entra/identity-platform/v2-admin-consent
 * @see https://learn.microsoft.com/entra/identity-platform/v2-protocols-oidc#send-a-sign-out-request
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FaultInjector } from '../control/faults.js';
import type { User } from '../directory/model.js';
import { AadstsError, aadsts } from './aadsts.js';
import type { AuthorizeParams, IdentityContext, LoginTransaction } from './context.js';
import { applyFault } from './fault-replies.js';
import { noteOutcome, paramsOf } from './http-support.js';
import {
  beginLogin,
  currentSession,
  endSession,
  redirectError,
  redirectToClient,
  sendErrorPage,
  type LoginOutcomes,
} from './login-flow.js';
import { messagePage } from './pages.js';
import { findRedirectPlatform } from './redirect-uri.js';
import { neededConsent, parseRequestedScopes } from './scopes.js';
import { resolveTenantSegment, type TenantSegment } from './tenant-segment.js';
import { randomText } from './tokens.js';

/** Completion and cancellation of an authorize transaction. */
export function authorizeOutcomes(ctx: IdentityContext): LoginOutcomes {
  return {
    complete(_request, reply, tx, user) {
      const params = tx.authorize;
      if (params === undefined) throw new Error('authorize transaction without parameters');
      const code = `1.A${randomText(96)}`;
      ctx.state.codes.set(code, {
        code,
        appId: tx.appId,
        tenantId: user.tenantId,
        userId: user.id,
        redirectUri: params.redirectUri,
        platform: params.platform,
        scopes: params.scopes,
        codeChallenge: params.codeChallenge,
        codeChallengeMethod: params.codeChallengeMethod,
        nonce: params.nonce,
        authTimeMs: tx.authTimeMs ?? ctx.clock.nowMs(),
        amr: tx.amr ?? ['pwd'],
        issuedAtMs: ctx.clock.nowMs(),
        redeemed: false,
      });
      const fields: Record<string, string> = { code };
      if (params.state !== undefined) fields.state = params.state;
      return redirectToClient(reply, params, fields);
    },
    cancel(request, reply, tx, stage) {
      const params = tx.authorize;
      if (params === undefined) throw new Error('authorize transaction without parameters');
      if (stage === 'consent') return redirectError(request, reply, ctx, params, aadsts(65004));
      noteOutcome(request, { error: 'access_denied' });
      const fields: Record<string, string> = {
        error: 'access_denied',
        error_description: 'the user canceled the authentication',
      };
      if (params.state !== undefined) fields.state = params.state;
      return redirectToClient(reply, params, fields);
    },
  };
}

/** Completion and cancellation of an admin-consent transaction. */
export function adminConsentOutcomes(): LoginOutcomes {
  return {
    complete(_request, reply, tx, user: Readonly<User>) {
      const target = tx.adminConsent;
      if (target === undefined) throw new Error('admin-consent transaction without parameters');
      const fields: Record<string, string> = { admin_consent: 'True', tenant: user.tenantId };
      if (target.scope !== undefined) fields.scope = target.scope;
      if (target.state !== undefined) fields.state = target.state;
      return redirectToClient(reply, { redirectUri: target.redirectUri, responseMode: 'query' }, fields);
    },
    cancel(request, reply, tx) {
      const target = tx.adminConsent;
      if (target === undefined) throw new Error('admin-consent transaction without parameters');
      noteOutcome(request, { error: 'permission_denied' });
      const fields: Record<string, string> = {
        error: 'permission_denied',
        error_description: 'The admin canceled the request',
      };
      if (target.state !== undefined) fields.state = target.state;
      return redirectToClient(reply, { redirectUri: target.redirectUri, responseMode: 'query' }, fields);
    },
  };
}

/** Validates the parts that decide whether errors may be redirected; throws AadstsError for the page. */
function trustedParts(ctx: IdentityContext, segment: TenantSegment, params: Record<string, string>) {
  const clientId = params.client_id;
  if (clientId === undefined || clientId.length === 0) throw aadsts(900144, { parameter: 'client_id' });
  const app = ctx.directory.findApp(clientId);
  const tenantLabel = segment.kind === 'tenant' ? segment.tenant.id : segment.segment;
  if (app === undefined || segment.kind === 'consumers') throw aadsts(700016, { appId: clientId, tenant: tenantLabel });
  if (
    segment.kind === 'tenant' &&
    app.signInAudience === 'AzureADMyOrg' &&
    !ctx.directory.isAppInTenant(segment.tenant.id, app.appId)
  ) {
    throw aadsts(700016, { appId: app.appId, tenant: segment.tenant.id });
  }
  const redirectUri = params.redirect_uri;
  if (redirectUri === undefined || redirectUri.length === 0) throw aadsts(900971);
  const platform = findRedirectPlatform(app, redirectUri);
  if (platform === null) throw aadsts(50011, { redirectUri, appId: app.appId });
  return { app, redirectUri, platform };
}

function responseModeOf(value: string | undefined): AuthorizeParams['responseMode'] {
  return value === 'fragment' || value === 'form_post' ? value : 'query';
}

async function handleAuthorize(
  request: FastifyRequest<{ Params: { tenant: string } }>,
  reply: FastifyReply,
  ctx: IdentityContext,
  faults: FaultInjector,
): Promise<FastifyReply> {
  const params = paramsOf(request);
  noteOutcome(request, {
    endpoint: 'authorize',
    tenant: request.params.tenant,
    clientId: params.client_id?.toLowerCase(),
  });
  if (await applyFault(faults, 'authorize', request, reply, ctx.clock)) return reply;
  let segment: TenantSegment;
  let trusted: ReturnType<typeof trustedParts>;
  try {
    segment = resolveTenantSegment(ctx.directory, request.params.tenant);
    trusted = trustedParts(ctx, segment, params);
  } catch (error) {
    if (error instanceof AadstsError) return sendErrorPage(request, reply, ctx, error);
    throw error;
  }
  const { app, redirectUri, platform } = trusted;
  const target = {
    redirectUri,
    responseMode: responseModeOf(params.response_mode),
    state: params.state?.replace(/<[^<>]*>/g, ''),
  };
  try {
    if (params.response_type !== 'code') throw aadsts(700054, { responseType: params.response_type ?? '' });
    const scopeRaw = params.scope;
    if (scopeRaw === undefined || scopeRaw.trim().length === 0) throw aadsts(900144, { parameter: 'scope' });
    const scopes = parseRequestedScopes(
      scopeRaw,
      'delegated',
      segment.kind === 'tenant' ? segment.tenant.id : segment.segment,
    );
    if (segment.kind !== 'tenant' && app.signInAudience === 'AzureADMyOrg')
      throw aadsts(50194, { appId: app.appId, appName: app.displayName });
    const method = params.code_challenge_method;
    const challenge = params.code_challenge;
    if (method !== undefined && method !== 'S256' && method !== 'plain')
      throw aadsts(
        900144,
        { parameter: 'code_challenge_method' },
        { text: `Invalid code_challenge_method '${method}'.` },
      );
    if (platform === 'spa' && challenge === undefined) throw aadsts(9002325);
    const authorize: AuthorizeParams = {
      redirectUri,
      platform,
      responseMode: target.responseMode,
      state: target.state,
      nonce: params.nonce,
      codeChallenge: challenge,
      codeChallengeMethod: challenge === undefined ? undefined : method === 'S256' ? 'S256' : 'plain',
      scopes,
      prompt: params.prompt,
    };
    const tx: LoginTransaction = {
      id: randomText(24),
      kind: 'authorize',
      tenantSegment: request.params.tenant,
      tenantId: segment.kind === 'tenant' ? segment.tenant.id : null,
      appId: app.appId,
      step: 'credentials',
      loginHint: params.login_hint,
      authorize,
      expiresAtMs: ctx.clock.nowMs() + ctx.config.loginTransactionSeconds * 1000,
    };
    if (params.prompt === 'none') {
      const session = currentSession(request, ctx);
      const user = session === undefined ? undefined : ctx.directory.findUserById(session.userId);
      if (session === undefined || user === undefined) throw aadsts(50058);
      if (user.mfaRequired && !session.amr.includes('mfa')) throw aadsts(50076, {}, { error: 'interaction_required' });
      const consented = ctx.directory.consentedScopes(user.tenantId, app.appId, user.id);
      if (neededConsent(app, scopes).some((s) => !consented.has(s)))
        throw aadsts(65001, { appId: app.appId, appName: app.displayName }, { error: 'consent_required' });
    }
    ctx.state.prune(ctx.clock.nowMs(), ctx.config.authCodeLifetimeSeconds * 1000);
    return beginLogin(request, reply, ctx, tx, authorizeOutcomes(ctx));
  } catch (error) {
    if (error instanceof AadstsError) return redirectError(request, reply, ctx, target, error);
    throw error;
  }
}

async function handleAdminConsent(
  request: FastifyRequest<{ Params: { tenant: string } }>,
  reply: FastifyReply,
  ctx: IdentityContext,
  v2: boolean,
): Promise<FastifyReply> {
  const params = paramsOf(request);
  noteOutcome(request, {
    endpoint: 'adminconsent',
    tenant: request.params.tenant,
    clientId: params.client_id?.toLowerCase(),
  });
  let segment: TenantSegment;
  let trusted: ReturnType<typeof trustedParts>;
  try {
    segment = resolveTenantSegment(ctx.directory, request.params.tenant);
    const clientId = params.client_id;
    const app = clientId === undefined ? undefined : ctx.directory.findApp(clientId);
    // The tenant being consented need not have the app yet: check the app exists, then the redirect URI.
    if (app !== undefined && app.signInAudience === 'AzureADMultipleOrgs')
      trusted = trustedParts(ctx, { kind: 'common', segment: 'common' }, params);
    else trusted = trustedParts(ctx, segment, params);
  } catch (error) {
    if (error instanceof AadstsError) return sendErrorPage(request, reply, ctx, error);
    throw error;
  }
  const tx: LoginTransaction = {
    id: randomText(24),
    kind: 'admin-consent',
    tenantSegment: request.params.tenant,
    tenantId: segment.kind === 'tenant' ? segment.tenant.id : null,
    appId: trusted.app.appId,
    step: 'credentials',
    loginHint: params.login_hint,
    adminConsent: { redirectUri: trusted.redirectUri, state: params.state, scope: v2 ? params.scope : undefined },
    expiresAtMs: ctx.clock.nowMs() + ctx.config.loginTransactionSeconds * 1000,
  };
  return beginLogin(request, reply, ctx, tx, adminConsentOutcomes());
}

/** Registers authorize, admin consent and logout. */
export function registerAuthorizeRoutes(
  app: FastifyInstance,
  deps: { ctx: IdentityContext; faults: FaultInjector },
): void {
  const { ctx, faults } = deps;
  app.get<{ Params: { tenant: string } }>('/:tenant/oauth2/v2.0/authorize', (request, reply) =>
    handleAuthorize(request, reply, ctx, faults),
  );
  app.post<{ Params: { tenant: string } }>('/:tenant/oauth2/v2.0/authorize', (request, reply) =>
    handleAuthorize(request, reply, ctx, faults),
  );
  app.get<{ Params: { tenant: string } }>('/:tenant/adminconsent', (request, reply) =>
    handleAdminConsent(request, reply, ctx, false),
  );
  app.get<{ Params: { tenant: string } }>('/:tenant/v2.0/adminconsent', (request, reply) =>
    handleAdminConsent(request, reply, ctx, true),
  );
  app.get<{ Params: { tenant: string } }>('/:tenant/oauth2/v2.0/logout', (request, reply) => {
    const params = paramsOf(request);
    noteOutcome(request, { endpoint: 'logout', tenant: request.params.tenant });
    endSession(request, reply, ctx);
    const target = params.post_logout_redirect_uri;
    if (target !== undefined && /^https?:\/\//i.test(target)) {
      const url = new URL(target);
      if (params.state !== undefined) url.searchParams.set('state', params.state);
      return reply.code(302).header('location', url.toString()).send();
    }
    return reply
      .type('text/html; charset=utf-8')
      .send(messagePage('You signed out of your account', "It's a good idea to close all browser windows."));
  });
}
