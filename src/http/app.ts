import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { LIMITS, type Config } from '../config/index.js';
import type { Logger } from '../log/index.js';
import type { Services } from '../services/index.js';
import { registerAuth } from './plugins/auth.js';
import { registerErrorHandling } from './plugins/errors.js';
import { registerSecurityHeaders } from './plugins/security-headers.js';
import { webUiRoutes } from './plugins/web-ui.js';
import { authRoutes } from './routes/auth/index.js';
import { cannedAnswerRoutes } from './routes/canned-answers/index.js';
import { cloudProviderRoutes } from './routes/cloud-providers/index.js';
import { contactRoutes } from './routes/contacts/index.js';
import { diagnosticsRoutes } from './routes/diagnostics/index.js';
import { emailAccountRoutes } from './routes/email-accounts/index.js';
import { eventRoutes } from './routes/events/index.js';
import { graphNotificationRoutes } from './routes/graph-notifications/index.js';
import { interactionRoutes } from './routes/interactions/index.js';
import { listRoutes } from './routes/lists/index.js';
import { metricsRoutes, registerHttpMetrics } from './routes/metrics/index.js';
import { outboundRoutes } from './routes/outbound/index.js';
import { streamRoutes } from './routes/stream/index.js';
import { systemRoutes } from './routes/system/index.js';
import { nodeRoutes } from './routes/system/nodes.js';
import { tokenRoutes } from './routes/tokens/index.js';
import { userRoutes } from './routes/users/index.js';
import { webhookRoutes } from './routes/webhooks/index.js';

export interface AppDeps {
  config: Config;
  logger: Logger;
  services: Services;
  version: string;
  /** The live stream's heartbeat (tests shorten it); default LIMITS.liveHeartbeatMs. */
  streamHeartbeatMs?: number;
}

/**
 * Builds the HTTP application without listening (tests use `app.inject()`). Route groups are
 * encapsulated plugins; handlers validate, call a service and present the result.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const loggerInstance: FastifyBaseLogger = deps.logger.child({ component: 'http' });
  const app = Fastify({
    loggerInstance,
    bodyLimit: LIMITS.httpBodyBytes,
    // Only the listed proxies' X-Forwarded-* are believed (proxy-addr): never every client's.
    trustProxy: deps.config.trustProxy.length === 0 ? false : [...deps.config.trustProxy],
    requestIdHeader: false,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandling(app, (error) => deps.services.storageError(error));
  registerSecurityHeaders(app, { publicUrl: deps.config.publicUrl });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Postern API',
        version: deps.version,
        description:
          'Email channel server for Microsoft 365 mailboxes. Authenticate with a session cookie (and the X-CSRF-Token header) or with "Authorization: Bearer <API token>".',
      },
      components: {
        securitySchemes: {
          apiToken: { type: 'http', scheme: 'bearer' },
          session: { type: 'apiKey', in: 'cookie', name: 'postern_session' },
        },
      },
      security: [{ apiToken: [] }, { session: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifyCookie);
  await app.register(fastifyFormbody);
  await app.register(fastifyRateLimit, { global: false });
  registerAuth(app, deps.services.auth);
  registerHttpMetrics(app, deps.services.metrics);

  await app.register(systemRoutes, {
    ping: () => deps.services.ping(),
    storeFailure: () => deps.services.storeFailure(),
    version: deps.version,
  });
  await app.register(nodeRoutes, { services: deps.services });
  await app.register(authRoutes, { services: deps.services, config: deps.config });
  await app.register(userRoutes, { services: deps.services });
  await app.register(tokenRoutes, { services: deps.services });
  await app.register(listRoutes, { services: deps.services });
  await app.register(contactRoutes, { services: deps.services });
  await app.register(cloudProviderRoutes, { services: deps.services, config: deps.config });
  await app.register(emailAccountRoutes, { services: deps.services });
  await app.register(interactionRoutes, { services: deps.services });
  await app.register(cannedAnswerRoutes, { services: deps.services });
  await app.register(outboundRoutes, { send: deps.services.outbound.send });
  await app.register(diagnosticsRoutes, { services: deps.services });
  await app.register(eventRoutes, { events: deps.services.events });
  await app.register(streamRoutes, {
    live: deps.services.live,
    auth: deps.services.auth,
    publicUrl: deps.config.publicUrl,
    ...(deps.streamHeartbeatMs === undefined ? {} : { heartbeatMs: deps.streamHeartbeatMs }),
  });
  await app.register(webhookRoutes, { webhooks: deps.services.webhooks });
  await app.register(graphNotificationRoutes, { services: deps.services });
  await app.register(metricsRoutes, { metrics: deps.services.metrics });
  await app.register(webUiRoutes, { publicUrl: deps.config.publicUrl });
  return app;
}
