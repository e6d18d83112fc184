import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PosternError } from '../../errors/index.js';
import type { Principal } from '../../services/users/auth-service.js';

export const SESSION_COOKIE = 'postern_session';
export const CSRF_COOKIE = 'postern_csrf';
const CSRF_HEADER = 'x-csrf-token';

/**
 * Who may call a route. Routes under /api default to `admin`: a route is opened to agents, or to
 * everyone, only by saying so.
 */
export type Access = 'public' | 'user' | 'admin';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export interface Authenticator {
  fromSession(sessionId: string): Promise<Principal | null>;
  fromApiToken(token: string): Promise<Principal | null>;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Resolves the caller (API token first, then the session cookie), enforces each route's access
 * level, and checks the CSRF token on state-changing requests made with a cookie session.
 */
export function registerAuth(app: FastifyInstance, authenticator: Authenticator): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request: FastifyRequest, _reply: FastifyReply) => {
    const access = accessOf(request);
    if (access === 'public') {
      request.principal = await identify(request, authenticator).catch(() => null);
      return;
    }
    const principal = await identify(request, authenticator);
    if (principal === null) throw new PosternError('AUTH_REQUIRED');
    request.principal = principal;
    if (principal.via === 'session' && !SAFE_METHODS.has(request.method)) checkCsrf(request, principal);
    if (access === 'admin' && principal.role !== 'admin') {
      throw new PosternError('AUTH_FORBIDDEN', { message: 'This action is reserved to administrators.' });
    }
  });
}

function accessOf(request: FastifyRequest): Access {
  const declared = request.routeOptions.config.access;
  if (declared !== undefined) return declared;
  // Unknown routes reach the not-found handler without a declared access: let it answer 404.
  if (request.routeOptions.url === undefined) return 'public';
  return request.url.startsWith('/api/') ? 'admin' : 'public';
}

async function identify(request: FastifyRequest, authenticator: Authenticator): Promise<Principal | null> {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (match?.[1] === undefined) {
      throw new PosternError('AUTH_TOKEN_INVALID', { message: 'The Authorization header must be "Bearer <token>".' });
    }
    const principal = await authenticator.fromApiToken(match[1]);
    if (principal === null) throw new PosternError('AUTH_TOKEN_INVALID');
    return principal;
  }
  const sessionId = request.cookies[SESSION_COOKIE];
  if (sessionId === undefined || sessionId === '') return null;
  const principal = await authenticator.fromSession(sessionId);
  if (principal === null) throw new PosternError('AUTH_SESSION_EXPIRED');
  return principal;
}

function checkCsrf(request: FastifyRequest, principal: Principal): void {
  const sent = request.headers[CSRF_HEADER];
  const expected = principal.csrfToken ?? '';
  if (typeof sent !== 'string' || !sameText(sent, expected)) throw new PosternError('AUTH_CSRF_FAILED');
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && left.length > 0 && timingSafeEqual(left, right);
}

/** The principal of a route that requires one (access `user` or `admin`). */
export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === null) throw new PosternError('AUTH_REQUIRED');
  return request.principal;
}
