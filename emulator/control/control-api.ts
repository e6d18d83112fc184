/**
 * The control API under `/_emulator`: bearer-token authentication (constant-time compare),
 * zod-validated bodies, and errors as `{ error: { code, message } }`. Route groups live in
 * `directory-routes.ts` and `operations-routes.ts`; the Exchange half registers its own group
 * inside the same authenticated scope through `extraRoutes`.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { ZodError } from 'zod';
import type { Clock } from '../clock.js';
import type { Directory } from '../directory/directory.js';
import { isEmulatorError } from '../errors.js';
import type { IdentityPlatform } from '../identity/identity-platform.js';
import type { EmulatorLogger } from '../log.js';
import { registerDirectoryRoutes } from './directory-routes.js';
import type { FaultInjector } from './faults.js';
import { registerOperationsRoutes } from './operations-routes.js';
import type { RequestLog } from './request-log.js';

/** The prefix of every control route. */
export const CONTROL_PREFIX = '/_emulator';

/** What the control routes act on. */
export interface ControlDeps {
  directory: Directory;
  clock: Clock;
  faults: FaultInjector;
  requestLog: RequestLog;
  identity: IdentityPlatform;
  logger: EmulatorLogger;
}

/** A function adding routes to the authenticated control scope (paths relative to `/_emulator`). */
export type ControlRoutes = (scope: FastifyInstance) => void | Promise<void>;

function tokensEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Registers the control API (and `extraRoutes` from extensions) under `/_emulator`. */
export async function registerControlApi(
  app: FastifyInstance,
  deps: ControlDeps,
  controlToken: string,
  extraRoutes: readonly ControlRoutes[] = [],
): Promise<void> {
  await app.register(
    async (scope) => {
      scope.addHook('onRequest', async (request, reply) => {
        const header = request.headers.authorization ?? '';
        const presented = /^bearer /i.test(header) ? header.slice(7).trim() : '';
        if (!tokensEqual(presented, controlToken)) {
          return reply
            .code(401)
            .header('www-authenticate', 'Bearer realm="postern-emulator"')
            .send({ error: { code: 'unauthorized', message: 'missing or wrong control token' } });
        }
        return undefined;
      });
      scope.setErrorHandler((error, request, reply) => {
        if (isEmulatorError(error))
          return reply.code(error.status).send({ error: { code: error.code, message: error.message } });
        if (error instanceof ZodError) {
          const message = error.issues
            .map((i) => `${i.path.map(String).join('.') || '(body)'}: ${i.message}`)
            .join('; ');
          return reply.code(400).send({ error: { code: 'invalid', message } });
        }
        const status =
          typeof error === 'object' && error !== null && 'statusCode' in error && typeof error.statusCode === 'number'
            ? error.statusCode
            : 500;
        if (status >= 500)
          deps.logger.error('control API failure', {
            url: request.url,
            message: error instanceof Error ? error.message : String(error),
          });
        return reply.code(status).send({
          error: {
            code: status >= 500 ? 'internal' : 'invalid',
            message: error instanceof Error ? error.message : 'error',
          },
        });
      });
      registerDirectoryRoutes(scope, deps);
      registerOperationsRoutes(scope, deps);
      for (const routes of extraRoutes) await routes(scope);
    },
    { prefix: CONTROL_PREFIX },
  );
}
