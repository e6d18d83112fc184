import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../../config/index.js';
import type { Services } from '../../../services/index.js';
import { CALLBACK_PATH } from '../../../services/identity/provider-service.js';
import type { AdminConsentOutcome } from '../../../services/identity/admin-consent-service.js';
import { sessionBindingOf, type CallbackOutcome } from '../../../services/identity/sign-in-service.js';
import type { PosternError } from '../../../errors/index.js';
import { resultPage } from '../../html.js';
import { SESSION_COOKIE } from '../../plugins/auth.js';

/**
 * The redirect URI registered in the Azure portal. Microsoft sends the browser here with `code`
 * and `state` (query, or a POST body with response_mode=form_post), or with `error`. The admin is
 * then sent back to the provider's page in the UI with the outcome. The admin-consent endpoint
 * returns here too (`admin_consent=True&tenant=…&state=…`, or `error`): a state issued for admin
 * consent is handled by the admin-consent service, every other by the sign-in.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow#successful-response
 */
export async function callbackRoutes(
  app: FastifyInstance,
  deps: { services: Services; config: Config },
): Promise<void> {
  const handle = async (
    request: FastifyRequest,
    reply: FastifyReply,
    parameters: URLSearchParams,
  ): Promise<FastifyReply> => {
    const consent = await deps.services.adminConsent.complete(parameters);
    if (consent !== null) return answerAdminConsent(reply, consent, deps.config.publicUrl);
    const sessionId = request.cookies[SESSION_COOKIE];
    const outcome = await deps.services.signIn.completeAuthorization(parameters, sessionBindingOf(sessionId));
    return answer(reply, outcome, deps.config.publicUrl);
  };
  const summary = 'OAuth 2.0 redirect URI: completes a Cloud Provider authentication';
  app.get(
    CALLBACK_PATH,
    { config: { access: 'public' }, schema: { tags: ['cloudProviders'], summary } },
    (request, reply) => handle(request, reply, new URLSearchParams(request.url.split('?')[1] ?? '')),
  );
  app.post(
    CALLBACK_PATH,
    { config: { access: 'public' }, schema: { tags: ['cloudProviders'], summary } },
    (request, reply) => {
      const body = request.body;
      const parameters = new URLSearchParams();
      if (typeof body === 'object' && body !== null) {
        for (const [key, value] of Object.entries(body)) if (typeof value === 'string') parameters.set(key, value);
      }
      return handle(request, reply, parameters);
    },
  );
}

function answer(reply: FastifyReply, outcome: CallbackOutcome, publicUrl: string): FastifyReply {
  if (outcome.ok) {
    const target = new URL(`${publicUrl}/ui/cloud-providers/${outcome.providerId}`);
    target.searchParams.set('authentication', 'success');
    if (outcome.grant.upn !== null) target.searchParams.set('upn', outcome.grant.upn);
    return reply.redirect(target.href, 303);
  }
  if (outcome.providerId !== null && outcome.error.code !== 'AUTH_STATE_INVALID') {
    const target = new URL(`${publicUrl}/ui/cloud-providers/${outcome.providerId}`);
    target.searchParams.set('authentication', 'failed');
    target.searchParams.set('code', outcome.error.code);
    return reply.redirect(target.href, 303);
  }
  const page = resultPage('Authentication not completed', {
    message: outcome.error.message,
    remedy: outcome.error.remedy,
    code: outcome.error.code,
    link: {
      href: `${publicUrl}/ui/cloud-providers${outcome.providerId === null ? '' : `/${outcome.providerId}`}`,
      text: 'Back to Cloud Providers',
    },
  });
  return reply.status(outcome.error.status).type('text/html; charset=utf-8').send(page);
}

/**
 * Where a browser sign-in that failed before reaching Microsoft goes: errors Microsoft gave (an
 * unknown tenant at discovery, a rejected secret), recorded on the provider's timeline by the
 * sign-in service, are shown on the provider's page with their remedy; anything else (an unknown
 * provider, the wrong grant type) on a small page of its own.
 */
export function failedSignInPage(
  reply: FastifyReply,
  error: PosternError,
  providerId: number,
  publicUrl: string,
): FastifyReply {
  if (error.code.startsWith('AUTH_') && error.code !== 'AUTH_REQUIRED' && error.code !== 'AUTH_FORBIDDEN') {
    const target = new URL(`${publicUrl}/ui/cloud-providers/${providerId}`);
    target.searchParams.set('authentication', 'failed');
    target.searchParams.set('code', error.code);
    return reply.redirect(target.href, 303);
  }
  const page = resultPage('Authentication not started', {
    message: error.message,
    remedy: error.remedy,
    code: error.code,
    link: { href: `${publicUrl}/ui/cloud-providers`, text: 'Back to Cloud Providers' },
  });
  return reply.status(error.status).type('text/html; charset=utf-8').send(page);
}

function answerAdminConsent(reply: FastifyReply, outcome: AdminConsentOutcome, publicUrl: string): FastifyReply {
  if (outcome.ok || outcome.error.code !== 'AUTH_STATE_INVALID') {
    const target = new URL(`${publicUrl}/ui/cloud-providers/${outcome.providerId ?? ''}`);
    target.searchParams.set('adminConsent', outcome.ok ? 'granted' : 'failed');
    if (!outcome.ok) target.searchParams.set('code', outcome.error.code);
    return reply.redirect(target.href, 303);
  }
  const page = resultPage('Admin consent not recorded', {
    message: outcome.error.message,
    remedy: outcome.error.remedy,
    code: outcome.error.code,
    link: {
      href: `${publicUrl}/ui/cloud-providers${outcome.providerId === null ? '' : `/${outcome.providerId}`}`,
      text: 'Back to Cloud Providers',
    },
  });
  return reply.status(outcome.error.status).type('text/html; charset=utf-8').send(page);
}
