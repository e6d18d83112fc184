/**
 * The Graph mail subset as an emulator extension: routes under `/v1.0` on the emulator's HTTPS
 * server and control routes under `/_emulator/graph`, over the Exchange half's mail store and mail
 * flow (so Graph and IMAP see the same mailboxes, and Graph and SMTP send the same way).
 *
 * `withGraph` pairs it with the Exchange extension in `startEmulator`'s built-in list: the Exchange
 * extension is created first and the Graph extension is given its service.
 *
 * @see ../README.md ("Extensions")
 * @see ./README.md
 */
import type { EmulatorCore, EmulatorExtension } from '../main.js';
import type { ExchangeExtension } from '../exchange/exchange-extension.js';
import type { ExchangeService } from '../exchange/exchange-service.js';
import { DeltaStates } from './delta-sync.js';
import { graphControlRoutes } from './graph-control-routes.js';
import { registerGraphRoutes } from './graph-routes.js';
import { DEFAULT_GRAPH_LIMITS, MailboxConcurrency } from './graph-throttle.js';
import { GraphSubscriptions } from './subscriptions.js';

/** Tunables of the emulated Graph API. */
export interface GraphExtensionOptions {
  /** Concurrent requests per app and mailbox before 429 (Outlook: 4). */
  readonly concurrency?: number;
  /** `Retry-After` of the concurrency 429, in seconds (default 1). */
  readonly retryAfterSeconds?: number;
  /** Delta tokens kept before the oldest are forgotten (default 5,000). */
  readonly deltaCapacity?: number;
}

/** The running Graph extension. */
export interface GraphExtension extends EmulatorExtension {
  readonly concurrency: MailboxConcurrency;
  readonly delta: DeltaStates;
  readonly subscriptions: GraphSubscriptions;
}

/** Builds the Graph extension over an Exchange service. */
function createGraphExtension(
  core: EmulatorCore,
  exchange: ExchangeService,
  options: GraphExtensionOptions = {},
): GraphExtension {
  const concurrency = new MailboxConcurrency({
    concurrency: options.concurrency ?? DEFAULT_GRAPH_LIMITS.concurrency,
    retryAfterSeconds: options.retryAfterSeconds ?? DEFAULT_GRAPH_LIMITS.retryAfterSeconds,
  });
  const delta = new DeltaStates(options.deltaCapacity);
  const subscriptions = new GraphSubscriptions(core.clock, core.tls.caPem, core.logger);
  const deps = {
    subscriptions,
    directory: core.directory,
    clock: core.clock,
    introspect: core.identity.introspectAccessToken,
    faults: core.faults,
    exchange,
    concurrency,
    delta,
    logger: core.logger,
  };
  return {
    name: 'graph',
    concurrency,
    delta,
    subscriptions,
    registerRoutes: (app) => registerGraphRoutes(app, deps),
    controlRoutes: graphControlRoutes({ faults: core.faults, concurrency, delta, subscriptions }),
  };
}

/**
 * The Exchange extension followed by the Graph extension over its service, for `startEmulator`'s
 * built-in list: `builtIn = withGraph((core) => createExchangeExtension(core, options))`.
 */
export function withGraph(
  createExchange: (core: EmulatorCore) => ExchangeExtension,
  options: GraphExtensionOptions = {},
): ReadonlyArray<(core: EmulatorCore) => EmulatorExtension> {
  let exchange: ExchangeExtension | undefined;
  return [
    (core) => {
      exchange = createExchange(core);
      return exchange;
    },
    (core) => {
      if (exchange === undefined) throw new Error('the Exchange extension must be created before the Graph extension');
      return createGraphExtension(core, exchange.service, options);
    },
  ];
}
