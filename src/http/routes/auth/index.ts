import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { LIMITS, type Config } from '../../../config/index.js';
import type { Services } from '../../../services/index.js';
import { CSRF_COOKIE, SESSION_COOKIE, principalOf } from '../../plugins/auth.js';
import { password } from '../../schemas.js';
import { presentUser, userReply } from '../users/presenter.js';

const loginBody = z.object({
  username: z.string().trim().min(1, 'is required').max(200),
  password: z.string().min(1, 'is required').max(1024),
});

const sessionReply = z.object({ user: userReply, csrfToken: z.string() });

/**
 * Sign-in, sign-out, the current user and password change. Sign-in is limited per client address
 * (in memory) and per username (in the database, see AuthService.signIn); a password change per
 * user, and it ends the user's other sessions.
 */
export async function authRoutes(app: FastifyInstance, deps: { services: Services; config: Config }): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const { auth, users } = deps.services;

  const setCookies = (reply: FastifyReply, sessionId: string, csrfToken: string): void => {
    const common = { path: '/', sameSite: 'lax' as const, secure: deps.config.cookieSecure };
    const maxAge = Math.floor(LIMITS.sessionMaxMs / 1000);
    void reply.setCookie(SESSION_COOKIE, sessionId, { ...common, httpOnly: true, maxAge });
    void reply.setCookie(CSRF_COOKIE, csrfToken, { ...common, httpOnly: false, maxAge });
  };

  routes.post(
    '/api/auth/login',
    {
      config: {
        access: 'public',
        rateLimit: { max: LIMITS.loginAttemptsPerWindow, timeWindow: LIMITS.loginWindowMs },
      },
      schema: {
        tags: ['auth'],
        summary: 'Sign in with a username and password',
        body: loginBody,
        response: { 200: sessionReply },
      },
    },
    async (request, reply) => {
      const session = await auth.signIn(request.body.username, request.body.password, {
        ip: request.ip,
        userAgent: request.headers['user-agent'] ?? null,
      });
      setCookies(reply, session.sessionId, session.csrfToken);
      return { user: presentUser(session.user), csrfToken: session.csrfToken };
    },
  );

  routes.post(
    '/api/auth/logout',
    { config: { access: 'user' }, schema: { tags: ['auth'], summary: 'Sign out', response: { 204: z.null() } } },
    async (request, reply) => {
      const principal = principalOf(request);
      if (principal.sessionId !== undefined) await auth.signOut(principal.sessionId);
      void reply.clearCookie(SESSION_COOKIE, { path: '/' }).clearCookie(CSRF_COOKIE, { path: '/' });
      return reply.status(204).send(null);
    },
  );

  routes.get(
    '/api/auth/me',
    {
      config: { access: 'user' },
      schema: { tags: ['auth'], summary: 'The signed-in user', response: { 200: userReply } },
    },
    async (request) => presentUser(await users.get(principalOf(request).userId)),
  );

  routes.post(
    '/api/auth/password',
    {
      config: {
        access: 'user',
        // Per user (the auth hook has run): guessing the current password from a stolen session.
        rateLimit: {
          max: LIMITS.passwordChangesPerWindow,
          timeWindow: LIMITS.passwordChangeWindowMs,
          keyGenerator: (request) => `user:${request.principal?.userId ?? request.ip}`,
        },
      },
      schema: {
        tags: ['auth'],
        summary: 'Change your own password',
        body: z.object({ currentPassword: z.string().min(1, 'is required'), newPassword: password }),
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      await users.changeOwnPassword(
        principal.userId,
        request.body.currentPassword,
        request.body.newPassword,
        principal.sessionId,
      );
      return reply.status(204).send(null);
    },
  );
}
