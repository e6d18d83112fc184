/**
 * The interactive sign-in shared by `authorize`, the device-code page and admin consent:
 * credentials → MFA (when the user requires it) → consent (unless already granted) → completion
 * (authorization code redirect, device approval, or admin-consent redirect). Each step is a plain
 * HTML form posted back with the transaction id `ctx`.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow
 * @see https://learn.microsoft.com/entra/identity-platform/consent-types-developer
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { User } from '../directory/model.js';
import { AadstsError, aadsts, framedDescription } from './aadsts.js';
import type { IdentityContext, LoginTransaction, SsoSession } from './context.js';
import { noteOutcome, paramsOf, requestIdsOf } from './http-support.js';
import { consentPage, errorPage, formPostPage, messagePage, mfaPage, signInPage } from './pages.js';
import { describeScope, neededConsent } from './scopes.js';
import { randomText } from './tokens.js';

const SESSION_COOKIE = 'ESTSAUTH';

/** Renders the page of an error that is shown, not redirected. */
export function sendErrorPage(
  request: FastifyRequest,
  reply: FastifyReply,
  ctx: IdentityContext,
  err: AadstsError,
): FastifyReply {
  noteOutcome(request, { error: err.error, aadsts: err.code });
  return reply
    .code(200)
    .type('text/html; charset=utf-8')
    .send(errorPage(err, requestIdsOf(request), ctx.clock.now()));
}

/** Redirects to the client's redirect URI with `fields`, honouring the response mode. */
export function redirectToClient(
  reply: FastifyReply,
  target: { redirectUri: string; responseMode: 'query' | 'fragment' | 'form_post' },
  fields: Record<string, string>,
): FastifyReply {
  if (target.responseMode === 'form_post')
    return reply.code(200).type('text/html; charset=utf-8').send(formPostPage(target.redirectUri, fields));
  const url = new URL(target.redirectUri);
  if (target.responseMode === 'fragment') {
    url.hash = new URLSearchParams(fields).toString();
  } else {
    for (const [k, v] of Object.entries(fields)) url.searchParams.set(k, v);
  }
  return reply.code(302).header('location', url.toString()).send();
}

/** An error redirected to the client: `error`, framed `error_description`, `error_uri`, `state`. */
export function redirectError(
  request: FastifyRequest,
  reply: FastifyReply,
  ctx: IdentityContext,
  target: { redirectUri: string; responseMode: 'query' | 'fragment' | 'form_post'; state: string | undefined },
  err: AadstsError,
): FastifyReply {
  noteOutcome(request, { error: err.error, aadsts: err.code });
  const fields: Record<string, string> = {
    error: err.error,
    error_description: framedDescription(err, requestIdsOf(request), ctx.clock.now()),
    error_uri: `https://login.microsoftonline.com/error?code=${err.code}`,
  };
  if (target.state !== undefined) fields.state = target.state;
  return redirectToClient(reply, target, fields);
}

function cookieValue(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const [k, ...rest] = part.trim().split('=');
    if (k === name) return rest.join('=');
  }
  return undefined;
}

/** The browser's SSO session if it is still good (user enabled, not revoked, within sign-in frequency). */
export function currentSession(request: FastifyRequest, ctx: IdentityContext): SsoSession | undefined {
  const id = cookieValue(request, SESSION_COOKIE);
  const session = id === undefined ? undefined : ctx.state.sessions.get(id);
  if (session === undefined) return undefined;
  const user = ctx.directory.findUserById(session.userId);
  const tenant = user === undefined ? undefined : ctx.directory.findTenant(user.tenantId);
  if (user === undefined || tenant === undefined || user.disabled) return undefined;
  if (user.tokensValidFrom !== null && user.tokensValidFrom.getTime() > session.authTimeMs) return undefined;
  if (user.passwordChangedAt !== null && user.passwordChangedAt.getTime() > session.authTimeMs) return undefined;
  if (
    tenant.signInFrequencySeconds !== null &&
    session.authTimeMs + tenant.signInFrequencySeconds * 1000 <= ctx.clock.nowMs()
  )
    return undefined;
  return session;
}

/** Forgets the browser's SSO session. */
export function endSession(request: FastifyRequest, reply: FastifyReply, ctx: IdentityContext): void {
  const id = cookieValue(request, SESSION_COOKIE);
  if (id !== undefined) ctx.state.sessions.delete(id);
  reply.header('set-cookie', `${SESSION_COOKIE}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=None`);
}

function startSession(reply: FastifyReply, ctx: IdentityContext, tx: LoginTransaction): void {
  if (tx.userId === undefined || tx.authTimeMs === undefined) return;
  const session: SsoSession = {
    id: randomText(24),
    userId: tx.userId,
    authTimeMs: tx.authTimeMs,
    amr: tx.amr ?? ['pwd'],
  };
  ctx.state.sessions.set(session.id, session);
  reply.header('set-cookie', `${SESSION_COOKIE}=${session.id}; Path=/; Secure; HttpOnly; SameSite=None`);
}

function action(tx: LoginTransaction, step: 'login' | 'mfa' | 'consent'): string {
  const path = step === 'login' ? 'login' : step === 'mfa' ? 'SAS/ProcessAuth' : 'Consent/Set';
  return `/${encodeURIComponent(tx.tenantSegment)}/${path}`;
}

/** What still needs consent in this transaction (for admin consent: every configured permission). */
function missingConsent(ctx: IdentityContext, tx: LoginTransaction, user: Readonly<User>): string[] {
  const app = ctx.directory.findApp(tx.appId);
  if (app === undefined) return [];
  if (tx.kind === 'admin-consent') return [...app.permissions.delegated, ...app.permissions.application];
  const scopes =
    tx.authorize?.scopes ??
    (tx.deviceCode === undefined ? undefined : ctx.state.deviceCodes.get(tx.deviceCode)?.scopes);
  if (scopes === undefined) return [];
  const needed = neededConsent(app, scopes);
  if (tx.authorize?.prompt === 'consent') return needed;
  const consented = ctx.directory.consentedScopes(user.tenantId, app.appId, user.id);
  return needed.filter((s) => !consented.has(s));
}

/** Hooks the flow calls at completion or cancellation; provided by authorize/device/admin-consent. */
export interface LoginOutcomes {
  complete(request: FastifyRequest, reply: FastifyReply, tx: LoginTransaction, user: Readonly<User>): FastifyReply;
  cancel(
    request: FastifyRequest,
    reply: FastifyReply,
    tx: LoginTransaction,
    stage: 'credentials' | 'consent',
  ): FastifyReply;
}

/** Renders the current step of `tx`, or completes it when nothing is left. */
function advance(
  request: FastifyRequest,
  reply: FastifyReply,
  ctx: IdentityContext,
  tx: LoginTransaction,
  outcomes: LoginOutcomes,
): FastifyReply {
  const app = ctx.directory.findApp(tx.appId);
  if (app === undefined)
    return sendErrorPage(request, reply, ctx, aadsts(700016, { appId: tx.appId, tenant: tx.tenantSegment }));
  const user = tx.userId === undefined ? undefined : ctx.directory.findUserById(tx.userId);
  if (user === undefined) {
    tx.step = 'credentials';
    return reply.type('text/html; charset=utf-8').send(
      signInPage({
        action: action(tx, 'login'),
        ctx: tx.id,
        appName: app.displayName,
        ...(tx.loginHint === undefined ? {} : { loginHint: tx.loginHint }),
      }),
    );
  }
  if (user.disabled) return sendErrorPage(request, reply, ctx, aadsts(50057));
  if (app.signInAudience === 'AzureADMyOrg' && app.tenantId !== user.tenantId) {
    return sendErrorPage(
      request,
      reply,
      ctx,
      aadsts(50020, { userTenant: user.tenantId, tenant: app.tenantId, appId: app.appId, appName: app.displayName }),
    );
  }
  if (user.mfaRequired && !(tx.amr ?? []).includes('mfa')) {
    tx.step = 'mfa';
    return reply
      .type('text/html; charset=utf-8')
      .send(mfaPage({ action: action(tx, 'mfa'), ctx: tx.id, upn: user.userPrincipalName }));
  }
  const missing = tx.step === 'consent' ? [] : missingConsent(ctx, tx, user);
  if (missing.length > 0) {
    const tenant = ctx.directory.findTenant(user.tenantId);
    const adminOnly = tx.kind === 'admin-consent' || tenant?.userConsent === 'admin-only';
    if (adminOnly && !user.admin) return sendErrorPage(request, reply, ctx, aadsts(90094));
    tx.step = 'consent';
    return reply.type('text/html; charset=utf-8').send(
      consentPage({
        action: action(tx, 'consent'),
        ctx: tx.id,
        appName: app.displayName,
        upn: user.userPrincipalName,
        permissions: missing.map((scope) => ({ scope, description: describeScope(scope) })),
        offerOrganization: user.admin && tx.kind !== 'admin-consent',
        adminConsent: tx.kind === 'admin-consent',
      }),
    );
  }
  ctx.state.logins.delete(tx.id);
  startSession(reply, ctx, tx);
  return outcomes.complete(request, reply, tx, user);
}

/** Starts `tx`: resumes an SSO session when allowed, else shows the sign-in page. */
export function beginLogin(
  request: FastifyRequest,
  reply: FastifyReply,
  ctx: IdentityContext,
  tx: LoginTransaction,
  outcomes: LoginOutcomes,
): FastifyReply {
  ctx.state.logins.set(tx.id, tx);
  const session = tx.authorize?.prompt === 'login' ? undefined : currentSession(request, ctx);
  const sessionUser = session === undefined ? undefined : ctx.directory.findUserById(session.userId);
  const hintMatches = tx.loginHint === undefined || tx.loginHint.toLowerCase() === sessionUser?.userPrincipalName;
  const tenantMatches = tx.tenantId === null || tx.tenantId === sessionUser?.tenantId;
  if (session !== undefined && sessionUser !== undefined && hintMatches && tenantMatches) {
    tx.userId = session.userId;
    tx.authTimeMs = session.authTimeMs;
    tx.amr = [...session.amr];
  }
  return advance(request, reply, ctx, tx, outcomes);
}

function transactionOf(ctx: IdentityContext, params: Record<string, string>): LoginTransaction | undefined {
  const tx = params.ctx === undefined ? undefined : ctx.state.logins.get(params.ctx);
  return tx !== undefined && tx.expiresAtMs > ctx.clock.nowMs() ? tx : undefined;
}

/** Registers the form handlers; `outcomesFor(tx)` picks the completion of the transaction's kind. */
export function registerLoginRoutes(
  app: FastifyInstance,
  ctx: IdentityContext,
  outcomesFor: (tx: LoginTransaction) => LoginOutcomes,
): void {
  const expired = (request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    noteOutcome(request, { error: 'session_expired' });
    return reply
      .code(400)
      .type('text/html; charset=utf-8')
      .send(
        messagePage(
          'Sign-in session expired',
          'This sign-in page has expired. Go back to the application and try again.',
        ),
      );
  };

  app.post<{ Params: { tenant: string } }>('/:tenant/login', async (request, reply) => {
    const params = paramsOf(request);
    noteOutcome(request, { endpoint: 'login', tenant: request.params.tenant, clientId: undefined });
    const tx = transactionOf(ctx, params);
    if (tx === undefined) return expired(request, reply);
    noteOutcome(request, { clientId: tx.appId });
    const outcomes = outcomesFor(tx);
    if (params.action === 'cancel') {
      ctx.state.logins.delete(tx.id);
      return outcomes.cancel(request, reply, tx, 'credentials');
    }
    const appName = ctx.directory.findApp(tx.appId)?.displayName ?? tx.appId;
    const username = (params.loginfmt ?? '').trim();
    const found = ctx.directory.findUserByUpn(username);
    const user = found !== undefined && (tx.tenantId === null || found.tenantId === tx.tenantId) ? found : undefined;
    if (user === undefined) {
      noteOutcome(request, { error: 'invalid_grant', aadsts: 50034 });
      return reply.type('text/html; charset=utf-8').send(
        signInPage({
          action: `/${encodeURIComponent(tx.tenantSegment)}/login`,
          ctx: tx.id,
          appName,
          loginHint: username,
          errorCode: 50034,
          error: 'This username may be incorrect. Make sure you typed it correctly. Otherwise, contact your admin.',
        }),
      );
    }
    if (params.passwd !== user.password) {
      noteOutcome(request, { error: 'invalid_grant', aadsts: 50126 });
      return reply.type('text/html; charset=utf-8').send(
        signInPage({
          action: `/${encodeURIComponent(tx.tenantSegment)}/login`,
          ctx: tx.id,
          appName,
          loginHint: username,
          errorCode: 50126,
          error: "Your account or password is incorrect. If you don't remember your password, reset it now.",
        }),
      );
    }
    tx.userId = user.id;
    tx.authTimeMs = ctx.clock.nowMs();
    tx.amr = ['pwd'];
    noteOutcome(request, {});
    return advance(request, reply, ctx, tx, outcomes);
  });

  app.post<{ Params: { tenant: string } }>('/:tenant/SAS/ProcessAuth', async (request, reply) => {
    const params = paramsOf(request);
    noteOutcome(request, { endpoint: 'mfa', tenant: request.params.tenant });
    const tx = transactionOf(ctx, params);
    if (tx === undefined || tx.userId === undefined) return expired(request, reply);
    noteOutcome(request, { clientId: tx.appId });
    const outcomes = outcomesFor(tx);
    if (params.action === 'cancel') {
      ctx.state.logins.delete(tx.id);
      return outcomes.cancel(request, reply, tx, 'credentials');
    }
    const user = ctx.directory.findUserById(tx.userId);
    if (user === undefined) return expired(request, reply);
    if ((params.otc ?? '').trim() !== user.mfaCode) {
      noteOutcome(request, { error: 'invalid_grant', aadsts: 500121 });
      return reply.type('text/html; charset=utf-8').send(
        mfaPage({
          action: `/${encodeURIComponent(tx.tenantSegment)}/SAS/ProcessAuth`,
          ctx: tx.id,
          upn: user.userPrincipalName,
          error: "That code didn't work. Check the code and try again.",
        }),
      );
    }
    tx.amr = [...new Set([...(tx.amr ?? ['pwd']), 'mfa'])];
    tx.authTimeMs = ctx.clock.nowMs();
    return advance(request, reply, ctx, tx, outcomes);
  });

  app.post<{ Params: { tenant: string } }>('/:tenant/Consent/Set', async (request, reply) => {
    const params = paramsOf(request);
    noteOutcome(request, { endpoint: 'consent', tenant: request.params.tenant });
    const tx = transactionOf(ctx, params);
    if (tx === undefined || tx.userId === undefined || tx.step !== 'consent') return expired(request, reply);
    noteOutcome(request, { clientId: tx.appId });
    const outcomes = outcomesFor(tx);
    if (params.action !== 'accept') {
      ctx.state.logins.delete(tx.id);
      return outcomes.cancel(request, reply, tx, 'consent');
    }
    const user = ctx.directory.findUserById(tx.userId);
    if (user === undefined) return expired(request, reply);
    const missing = missingConsent(ctx, { ...tx, step: 'credentials' }, user);
    const onBehalf = tx.kind === 'admin-consent' || (params.consent_on_behalf === '1' && user.admin);
    if (tx.kind === 'admin-consent') {
      ctx.directory.grantAdminConsent(user.tenantId, tx.appId);
    } else {
      ctx.directory.grantConsent({
        tenantId: user.tenantId,
        appId: tx.appId,
        userId: onBehalf ? null : user.id,
        scopes: missing,
      });
    }
    return advance(request, reply, ctx, tx, outcomes);
  });
}
