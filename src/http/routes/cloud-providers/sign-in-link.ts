import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Config } from '../../../config/index.js';
import { PosternError, isPosternError } from '../../../errors/index.js';
import type { Services } from '../../../services/index.js';
import { SIGN_IN_LINK_ROUTE, sessionBindingOf } from '../../../services/identity/sign-in-service.js';
import { resultPage } from '../../html.js';
import { idParam } from '../../schemas.js';

/**
 * The one-time console link that an API token (or the CLI) gets instead of an authorize URL. The
 * browser opens it directly, with its session cookie: for the user the link was made for, Postern
 * starts the real sign-in bound to this browser session and redirects to Microsoft; anyone else
 * (no session, another user, an API token) gets a page that says why, and the link stays usable.
 * Public at the router so that a browser without a session gets that page rather than JSON; the
 * handler checks the session itself.
 */
export async function signInLinkRoutes(
  app: FastifyInstance,
  deps: { services: Services; config: Config },
): Promise<void> {
  const { publicUrl } = deps.config;
  app.withTypeProvider<ZodTypeProvider>().get(
    SIGN_IN_LINK_ROUTE,
    {
      config: { access: 'public' },
      schema: {
        tags: ['cloudProviders'],
        summary:
          "Open a one-time sign-in link in the console: for the user it was made for, redirects to Microsoft's sign-in",
        params: idParam,
        querystring: z.object({ ticket: z.string().max(200).default('') }),
      },
    },
    async (request, reply) => {
      const principal = request.principal;
      const sessionHash = principal?.via === 'session' ? sessionBindingOf(principal.sessionId) : null;
      try {
        if (principal === null || sessionHash === null) {
          throw new PosternError('AUTH_REQUIRED', {
            message: 'This sign-in link opens only in a browser signed in to the Postern console.',
            remedy:
              'Sign in to the console as the user the link was made for (the one whose API token started it, or whom the CLI named), then open the link again.',
          });
        }
        if (principal.role !== 'admin')
          throw new PosternError('AUTH_FORBIDDEN', {
            message: 'Signing a Cloud Provider in is reserved to administrators.',
          });
        const url = await deps.services.signIn.openSignInLink(request.params.id, request.query.ticket, {
          userId: principal.userId,
          sessionHash,
        });
        return await reply.redirect(url.href, 302);
      } catch (error) {
        if (!isPosternError(error) || error.status >= 500) throw error;
        return refuse(reply, error, publicUrl, principal === null);
      }
    },
  );
}

function refuse(reply: FastifyReply, error: PosternError, publicUrl: string, anonymous: boolean): FastifyReply {
  const page = resultPage('Sign-in link not opened', {
    message: error.message,
    remedy: error.remedy,
    code: error.code,
    link: anonymous
      ? { href: `${publicUrl}/ui/sign-in`, text: 'Sign in to the console' }
      : { href: `${publicUrl}/ui/cloud-providers`, text: 'Back to Cloud Providers' },
  });
  return reply.status(error.status).type('text/html; charset=utf-8').send(page);
}
