/**
 * The identity platform (Entra ID v2.0) as one object: its shared context, the synchronous
 * access-token introspection handed to the Exchange half, and the registration of its routes on
 * the emulator's HTTPS server.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/v2-protocols
 */
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../clock.js';
import type { FaultInjector } from '../control/faults.js';
import type { Directory } from '../directory/directory.js';
import { registerAuthorizeRoutes } from './authorize.js';
import { DEFAULT_IDENTITY_CONFIG, IdentityState, type IdentityConfig, type IdentityContext } from './context.js';
import { registerDeviceFlowRoutes } from './device-flow.js';
import { registerDiscoveryRoutes } from './discovery.js';
import { createIntrospector, type IntrospectAccessToken } from './introspect.js';
import type { IdentityKeys } from './keys.js';
import { registerLoginRoutes } from './login-flow.js';
import { registerResourceServerIntrospection } from './resource-server-introspection.js';
import { registerTokenEndpoint } from './token-endpoint.js';
import { adminConsentOutcomes, authorizeOutcomes } from './authorize.js';
import { deviceOutcomes } from './device-flow.js';

/** The identity half of the emulator. */
export interface IdentityPlatform {
  readonly context: IdentityContext;
  readonly keys: IdentityKeys;
  /** Synchronous; see `introspect.ts`. */
  readonly introspectAccessToken: IntrospectAccessToken;
  /** Registers every identity route on `app` (which must parse form bodies). */
  registerRoutes(app: FastifyInstance, faults: FaultInjector): void;
}

/** Builds the identity platform over the directory, clock and keys. */
export function createIdentityPlatform(deps: {
  directory: Directory;
  clock: Clock;
  keys: IdentityKeys;
  config?: Partial<IdentityConfig>;
  random?: () => number;
}): IdentityPlatform {
  const context: IdentityContext = {
    directory: deps.directory,
    clock: deps.clock,
    keys: deps.keys,
    config: { ...DEFAULT_IDENTITY_CONFIG, ...deps.config },
    state: new IdentityState(),
    random: deps.random ?? Math.random,
  };
  const introspectAccessToken = createIntrospector({ keys: deps.keys, clock: deps.clock, directory: deps.directory });
  return {
    context,
    keys: deps.keys,
    introspectAccessToken,
    registerRoutes(app, faults) {
      const routeDeps = { ctx: context, faults };
      registerDiscoveryRoutes(app, { ...routeDeps, introspect: introspectAccessToken });
      registerAuthorizeRoutes(app, routeDeps);
      registerTokenEndpoint(app, routeDeps);
      registerDeviceFlowRoutes(app, routeDeps);
      registerResourceServerIntrospection(app, introspectAccessToken);
      const outcomes = {
        authorize: authorizeOutcomes(context),
        device: deviceOutcomes(context),
        'admin-consent': adminConsentOutcomes(),
      };
      registerLoginRoutes(app, context, (tx) => outcomes[tx.kind]);
    },
  };
}
