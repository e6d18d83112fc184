import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PosternError, isPosternError } from '../../../errors/index.js';
import type { Config } from '../../../config/index.js';
import type { Services } from '../../../services/index.js';
import {
  sessionBindingOf,
  type DeviceFlowStatus,
  type SignInLink,
  type SignInStarter,
} from '../../../services/identity/sign-in-service.js';
import type { Principal } from '../../../services/users/auth-service.js';
import { principalOf } from '../../plugins/auth.js';
import { beforeQuery, eventPageReply, idParam, presentEventPage } from '../../schemas.js';
import { callbackRoutes, failedSignInPage } from './callback.js';
import { signInLinkRoutes } from './sign-in-link.js';
import { grantReply, presentGrant, presentProvider, providerReply } from './presenter.js';
import {
  authenticateBody,
  certificateBody,
  providerBody,
  providerPatch,
  secretBody,
} from '../../../domain/cloud-provider-fields.js';

const TAGS = ['cloudProviders'];

const deviceFlowReply = z.object({
  flowId: z.string(),
  state: z.enum(['pending', 'completed', 'failed']),
  userCode: z.string(),
  verificationUri: z.string(),
  message: z.string(),
  expiresAt: z.string(),
  grant: grantReply.optional(),
  error: z.object({ code: z.string(), message: z.string(), remedy: z.string().optional() }).optional(),
});

const authenticateReply = z.discriminatedUnion('method', [
  z.object({ method: z.literal('redirect'), authorizeUrl: z.string() }),
  z.object({
    method: z.literal('link'),
    signInUrl: z.string(),
    expiresAt: z.string(),
    username: z.string(),
    message: z.string(),
  }),
  z.object({ method: z.literal('device_code'), flow: deviceFlowReply }),
  z.object({ method: z.literal('completed'), grant: grantReply }),
]);

function presentFlow(flow: DeviceFlowStatus): z.infer<typeof deviceFlowReply> {
  return {
    flowId: flow.flowId,
    state: flow.state,
    userCode: flow.userCode,
    verificationUri: flow.verificationUri,
    message: flow.message,
    expiresAt: flow.expiresAt,
    ...(flow.grant === undefined ? {} : { grant: presentGrant(flow.grant) }),
    ...(flow.error === undefined
      ? {}
      : {
          error: {
            code: flow.error.code,
            message: flow.error.message,
            ...(flow.error.remedy === undefined ? {} : { remedy: flow.error.remedy }),
          },
        }),
  };
}

/** The browser session behind a request, to bind a sign-in to; null for an API token. */
function browserOf(principal: Principal): SignInStarter | null {
  const sessionHash = principal.via === 'session' ? sessionBindingOf(principal.sessionId) : null;
  return sessionHash === null ? null : { userId: principal.userId, sessionHash };
}

function presentLink(link: SignInLink): z.infer<typeof authenticateReply> {
  return {
    method: 'link',
    signInUrl: link.url,
    expiresAt: link.expiresAt.toISOString(),
    username: link.username,
    message: link.instructions,
  };
}

/** Cloud Providers (admins only) and the OAuth callback (public, checked by state). */
export async function cloudProviderRoutes(
  app: FastifyInstance,
  deps: { services: Services; config: Config },
): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const { providers, signIn } = deps.services;
  await app.register(callbackRoutes, deps);
  await app.register(signInLinkRoutes, deps);

  routes.get(
    '/api/cloudProviders',
    {
      schema: {
        tags: TAGS,
        summary: 'List Cloud Providers with their status',
        response: { 200: z.object({ items: z.array(providerReply) }) },
      },
    },
    async () => ({ items: (await providers.list()).map(presentProvider) }),
  );
  routes.post(
    '/api/cloudProviders',
    {
      schema: {
        tags: TAGS,
        summary: 'Create a Cloud Provider from an Azure app registration',
        body: providerBody,
        response: { 201: providerReply },
      },
    },
    async (request, reply) => reply.status(201).send(presentProvider(await providers.create(request.body))),
  );
  routes.get(
    '/api/cloudProviders/:id',
    { schema: { tags: TAGS, summary: 'Get a Cloud Provider', params: idParam, response: { 200: providerReply } } },
    async (request) => presentProvider(await providers.get(request.params.id)),
  );
  routes.patch(
    '/api/cloudProviders/:id',
    {
      schema: {
        tags: TAGS,
        summary: 'Change a Cloud Provider (the secret has its own action)',
        params: idParam,
        body: providerPatch,
        response: { 200: providerReply },
      },
    },
    async (request) => presentProvider(await providers.update(request.params.id, request.body)),
  );
  routes.delete(
    '/api/cloudProviders/:id',
    {
      schema: {
        tags: TAGS,
        summary: 'Delete a Cloud Provider no email account uses',
        params: idParam,
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      await providers.remove(request.params.id);
      return reply.status(204).send(null);
    },
  );
  routes.put(
    '/api/cloudProviders/:id/clientSecret',
    {
      schema: {
        tags: TAGS,
        summary: 'Update Client Secret: replace the secret and its expiry date',
        params: idParam,
        body: secretBody,
        response: { 200: providerReply },
      },
    },
    async (request) =>
      presentProvider(
        await providers.updateClientSecret(
          request.params.id,
          request.body.clientSecret,
          request.body.expiresAt ?? null,
        ),
      ),
  );
  routes.put(
    '/api/cloudProviders/:id/clientCertificate',
    {
      schema: {
        tags: TAGS,
        summary:
          'Use a certificate instead of the client secret: upload a PEM private key and certificate, or { "generate": true } for a new RSA 2048 key pair and a self-signed certificate (one year)',
        params: idParam,
        body: certificateBody,
        response: { 200: providerReply },
      },
    },
    async (request) => presentProvider(await providers.updateClientCertificate(request.params.id, request.body)),
  );
  routes.get(
    '/api/cloudProviders/:id/clientCertificate',
    {
      schema: {
        tags: TAGS,
        summary: 'Download the certificate (PEM, public part only) to upload to the app registration in Azure',
        params: idParam,
      },
    },
    async (request, reply) => {
      const { name, pem } = await providers.certificatePem(request.params.id);
      const file = `${name.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 60) || 'provider'}.pem`;
      return reply
        .header('Content-Type', 'application/x-pem-file')
        .header('Content-Disposition', `attachment; filename="${file}"`)
        .send(pem);
    },
  );

  routes.post(
    '/api/cloudProviders/:id/adminConsent',
    {
      schema: {
        tags: TAGS,
        summary:
          "A one-time admin consent link (valid 24 hours) for a tenant administrator to grant the app's configured permissions for the whole tenant; it returns to the provider's redirect URI",
        params: idParam,
        response: { 200: z.object({ url: z.string(), expiresAt: z.string() }) },
      },
    },
    async (request) => {
      const link = await deps.services.adminConsent.link(request.params.id, principalOf(request).userId);
      return { url: link.url, expiresAt: link.expiresAt.toISOString() };
    },
  );

  routes.post(
    '/api/cloudProviders/:id/authenticate',
    {
      schema: {
        tags: TAGS,
        summary:
          'Authenticate: the authorize URL to open (authorization code, from a console session), a one-time console link (authorization code, with an API token), a device code, or an immediate sign-in (client credentials, password)',
        params: idParam,
        body: authenticateBody,
        response: { 200: authenticateReply },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const provider = (await providers.get(request.params.id)).provider;
      switch (provider.grantType) {
        case 'authorization_code': {
          const options = { loginHint: request.body.loginHint ?? null };
          const starter = browserOf(principal);
          if (starter === null)
            return presentLink(await signIn.issueSignInLink(provider.id, principal.userId, options));
          const url = await signIn.startAuthorization(provider.id, starter, options);
          return { method: 'redirect' as const, authorizeUrl: url.href };
        }
        case 'device_code':
          return { method: 'device_code' as const, flow: presentFlow(await signIn.startDeviceCode(provider.id)) };
        case 'client_credentials':
          return { method: 'completed' as const, grant: presentGrant(await signIn.signInAsApp(provider.id)) };
        case 'password': {
          const { username, password } = request.body;
          if (!username || !password) {
            throw new PosternError('VALIDATION_FAILED', {
              message: 'The request body is invalid: username and password are required for the password grant type.',
              details: {
                in: 'body',
                fields: [
                  { field: username ? 'password' : 'username', problem: 'is required for the password grant type' },
                ],
              },
            });
          }
          return {
            method: 'completed' as const,
            grant: presentGrant(await signIn.signInWithPassword(provider.id, username, password)),
          };
        }
      }
    },
  );

  routes.get(
    '/api/cloudProviders/:id/authenticate',
    {
      schema: {
        tags: TAGS,
        summary: "Authenticate in a browser: redirects to Microsoft's sign-in",
        params: idParam,
        querystring: z.object({ loginHint: z.string().trim().max(320).optional() }),
      },
    },
    async (request, reply) => {
      const starter = browserOf(principalOf(request));
      if (starter === null) {
        throw new PosternError('AUTH_REQUIRED', {
          message: 'A browser sign-in is bound to a console session, and this request has none.',
          remedy: `With an API token, POST /api/cloudProviders/${request.params.id}/authenticate: it answers a one-time link to open while signed in to the console.`,
        });
      }
      try {
        const url = await signIn.startAuthorization(request.params.id, starter, {
          loginHint: request.query.loginHint ?? null,
        });
        return await reply.redirect(url.href, 302);
      } catch (error) {
        // A browser came here: it gets a console page, never the JSON of an API error.
        if (!isPosternError(error) || (error.status >= 500 && !error.code.startsWith('AUTH_'))) throw error;
        return failedSignInPage(reply, error, request.params.id, deps.config.publicUrl);
      }
    },
  );

  routes.get(
    '/api/cloudProviders/:id/deviceCode/:flowId',
    {
      schema: {
        tags: TAGS,
        summary: 'Progress of a device code sign-in',
        params: idParam.extend({ flowId: z.string().uuid() }),
        response: { 200: deviceFlowReply },
      },
    },
    async (request) => {
      const flow = signIn.deviceFlow(request.params.flowId);
      if (flow.providerId !== request.params.id)
        throw new PosternError('RESOURCE_NOT_FOUND', {
          message: 'There is no such device code sign-in for this provider.',
        });
      return presentFlow(flow);
    },
  );

  routes.delete(
    '/api/cloudProviders/:id/grants/:grantId',
    {
      schema: {
        tags: TAGS,
        summary: 'Forget a signed-in identity',
        params: idParam.extend({ grantId: z.coerce.number().int().positive() }),
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      await providers.removeGrant(request.params.id, request.params.grantId);
      return reply.status(204).send(null);
    },
  );

  routes.post(
    '/api/cloudProviders/:id/grants/:grantId/check',
    {
      schema: {
        tags: TAGS,
        summary:
          'Obtain an access token for a resource now and report what it grants (the token itself is never returned)',
        params: idParam.extend({ grantId: z.coerce.number().int().positive() }),
        body: z
          .object({ resource: z.enum(['exchange', 'graph']).default('exchange') })
          .default({ resource: 'exchange' }),
        response: { 200: z.object({ upn: z.string().nullable(), scopes: z.array(z.string()), expiresAt: z.string() }) },
      },
    },
    async (request) => {
      const view = await providers.get(request.params.id);
      if (!view.grants.some((g) => g.id === request.params.grantId))
        throw new PosternError('RESOURCE_NOT_FOUND', {
          message: `There is no grant ${request.params.grantId} under this provider.`,
        });
      const token = await deps.services.accessTokens.accessToken(request.params.grantId, request.body.resource);
      return { upn: token.upn, scopes: token.scopes, expiresAt: token.expiresAt.toISOString() };
    },
  );

  routes.get(
    '/api/cloudProviders/:id/events',
    {
      schema: {
        tags: TAGS,
        summary: "The provider's timeline, newest first",
        params: idParam,
        querystring: beforeQuery,
        response: { 200: eventPageReply },
      },
    },
    async (request) => {
      await providers.get(request.params.id);
      const page = await providers.events(request.params.id, request.query.before);
      return presentEventPage(page);
    },
  );
}
