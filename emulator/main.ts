/**
 * Starts the Microsoft 365 emulator: loads the seed into the directory, creates (or reuses) the
 * CA, server certificate and signing keys in the data directory, and serves the identity
 * platform and the control API on one loopback HTTPS server. Tests start it in-process on port
 * 0; `postern emulator` starts it from the command line.
 *
 * The Exchange half (IMAP, SMTP, Graph) plugs in as an {@link EmulatorExtension} — see the
 * marked EXCHANGE section in {@link startEmulator}.
 *
 * @see ../shared/reference/microsoft-protocols.md §10 (emulator checklist)
 */
import { randomBytes } from 'node:crypto';
import https from 'node:https';
import path from 'node:path';
import formbody from '@fastify/formbody';
import { fastify, type FastifyInstance } from 'fastify';
import { Clock } from './clock.js';
import { registerControlApi, CONTROL_PREFIX, type ControlRoutes } from './control/control-api.js';
import { FaultInjector } from './control/faults.js';
import { RequestLog, redactAuthorization, redactParams } from './control/request-log.js';
import { Directory } from './directory/directory.js';
import { readSeedFile, sampleSeedPath } from './directory/load-seed.js';
import { createExchangeExtension, type ExchangeExtensionOptions } from './exchange/exchange-extension.js';
import { withGraph } from './graph/graph-extension.js';
import type { SeedInput } from './directory/schema.js';
import type { IdentityConfig } from './identity/context.js';
import { outcomeOf, paramsOf } from './identity/http-support.js';
import { createIdentityPlatform, type IdentityPlatform } from './identity/identity-platform.js';
import { IdentityKeys } from './identity/keys.js';
import { silentLogger, type EmulatorLogger } from './log.js';
import { createCaFetch, type CaFetch } from './tls/ca-fetch.js';
import {
  DEFAULT_TLS_NAMES,
  loadOrCreateTls,
  withMicrosoftHostNames,
  type TlsMaterial,
  type TlsNames,
} from './tls/certificates.js';

/** Options of {@link startEmulator}. */
export interface EmulatorOptions {
  /** Where the CA, certificates and keys are kept (created if missing; reused later). */
  dataDir: string;
  /** A seed file path, a seed object, or null for an empty directory. Default: the sample Contoso seed. */
  seed?: string | SeedInput | null;
  /** Loopback address to listen on. Default 127.0.0.1. */
  host?: string;
  /** HTTPS port; 0 (default) picks a free one. */
  port?: number;
  /** Also serve plain http on this port (debugging only; 0 picks one). */
  httpPort?: number;
  /** The control API's bearer token; random when absent. */
  controlToken?: string;
  /** An existing clock (tests may share one). */
  clock?: Clock;
  /** Identity lifetimes and intervals (e.g. `deviceCodeIntervalSeconds: 0.05` in tests). */
  identity?: Partial<IdentityConfig>;
  /** Source of randomness for `expires_in`. */
  random?: () => number;
  logger?: EmulatorLogger;
  /** Names on the server certificate. Default localhost, 127.0.0.1, ::1. */
  tlsNames?: TlsNames;
  /**
   * Also put Microsoft's global host names (login.microsoftonline.com, graph.microsoft.com,
   * outlook.office365.com, smtp.office365.com...) on the server certificate, for tests that
   * resolve them to the emulator and so run Postern's `global` cloud unchanged. Off by default.
   */
  microsoftHostNames?: boolean;
  /** Extensions started with the emulator (the Exchange half, or a test's own). */
  extensions?: ReadonlyArray<(core: EmulatorCore) => EmulatorExtension | Promise<EmulatorExtension>>;
  /** The Exchange half (IMAP, SMTP): its options, or `false` to leave it out. Default: on, mail persisted in `dataDir`. */
  exchange?: ExchangeExtensionOptions | false;
}

/** What extensions (the Exchange half) get from the emulator. */
export interface EmulatorCore {
  directory: Directory;
  clock: Clock;
  identity: IdentityPlatform;
  faults: FaultInjector;
  requestLog: RequestLog;
  tls: TlsMaterial;
  logger: EmulatorLogger;
  dataDir: string;
  host: string;
}

/** A part of the emulator started alongside the identity platform (IMAP, SMTP, Graph...). */
export interface EmulatorExtension {
  name: string;
  /** Routes on the shared HTTPS server (e.g. Graph under `/v1.0`), registered before it listens. */
  registerRoutes?(app: FastifyInstance): void | Promise<void>;
  /** Control routes, mounted under `/_emulator` behind the control token. */
  controlRoutes?: ControlRoutes;
  /** Starts own listeners after the HTTPS server; returns URLs to add to `handle.urls`. */
  start?(): Promise<Record<string, string> | void>;
  close?(): Promise<void>;
}

/** The running emulator. */
export interface EmulatorHandle {
  urls: {
    /** `https://127.0.0.1:PORT`, the "login.microsoftonline.com" of the emulator. */
    https: string;
    /** The authority of the first seeded tenant: `https://127.0.0.1:PORT/{tenantId}`. */
    authority: string | undefined;
    /** `https://127.0.0.1:PORT/_emulator`. */
    control: string;
    http?: string;
    [extra: string]: string | undefined;
  };
  /** The CA certificate file clients must trust. */
  caFile: string;
  caPem: string;
  tls: TlsMaterial;
  controlToken: string;
  directory: Directory;
  clock: Clock;
  identity: IdentityPlatform;
  faults: FaultInjector;
  requestLog: RequestLog;
  /** A fetch that trusts the emulator's CA (for tests and scripts). */
  fetch: CaFetch;
  /** Calls the control API: `await handle.control('POST', '/clock', { advanceDays: 91 })`. */
  control(method: string, path: string, body?: unknown): Promise<Response>;
  close(): Promise<void>;
}

function tlsNamesOf(options: EmulatorOptions): TlsNames {
  const names = options.tlsNames ?? DEFAULT_TLS_NAMES;
  return options.microsoftHostNames === true ? withMicrosoftHostNames(names) : names;
}

async function loadSeed(seed: EmulatorOptions['seed']): Promise<unknown> {
  if (seed === null) return { tenants: [] };
  if (seed === undefined) return readSeedFile(sampleSeedPath());
  if (typeof seed === 'string') return readSeedFile(path.resolve(seed));
  return seed;
}

function recordRequests(app: FastifyInstance, requestLog: RequestLog, clock: Clock): void {
  app.addHook('onResponse', async (request, reply) => {
    if (request.url.startsWith(CONTROL_PREFIX)) return;
    const outcome = outcomeOf(request);
    const params = paramsOf(request);
    requestLog.record({
      at: clock.now().toISOString(),
      method: request.method,
      path: request.url.split('?')[0] ?? request.url,
      endpoint: outcome?.endpoint ?? 'other',
      tenant: outcome?.tenant,
      grantType: outcome?.grantType,
      clientId: outcome?.clientId,
      params: redactParams(params),
      authorization: redactAuthorization(request.headers.authorization),
      status: reply.statusCode,
      error: outcome?.error,
      aadsts: outcome?.aadsts,
      fault: outcome?.fault,
      durationMs: Math.round(reply.elapsedTime),
    });
  });
}

async function buildServer(tlsOptions: { key: string; cert: string } | null): Promise<FastifyInstance> {
  // serverFactory keeps one instance type for the https and the plain-http server.
  const app: FastifyInstance =
    tlsOptions === null
      ? fastify({ logger: false })
      : fastify({
          logger: false,
          serverFactory: (handler) => https.createServer({ key: tlsOptions.key, cert: tlsOptions.cert }, handler),
        });
  await app.register(formbody);
  return app;
}

/** Starts the emulator; see {@link EmulatorHandle}. */
export async function startEmulator(options: EmulatorOptions): Promise<EmulatorHandle> {
  const logger = options.logger ?? silentLogger;
  const host = options.host ?? '127.0.0.1';
  const clock = options.clock ?? new Clock();
  const dataDir = path.resolve(options.dataDir);
  const directory = new Directory(clock, await loadSeed(options.seed));
  const [tls, keys] = await Promise.all([
    loadOrCreateTls(dataDir, tlsNamesOf(options)),
    IdentityKeys.loadOrCreate(dataDir, clock.now()),
  ]);
  const identity = createIdentityPlatform({
    directory,
    clock,
    keys,
    ...(options.identity === undefined ? {} : { config: options.identity }),
    ...(options.random === undefined ? {} : { random: options.random }),
  });
  const faults = new FaultInjector();
  const requestLog = new RequestLog();
  const controlToken = options.controlToken ?? randomBytes(24).toString('base64url');
  const core: EmulatorCore = { directory, clock, identity, faults, requestLog, tls, logger, dataDir, host };

  // ── EXCHANGE (part 2) ──────────────────────────────────────────────────────────────────────
  // The IMAP and SMTP servers and the Graph routes plug in here as extensions, e.g.:
  //   const builtIn = [(core) => createExchangeExtension(core, options.exchange)];
  // Each gets `core` (directory, clock, identity.introspectAccessToken, faults, tls...), may add
  // routes to the HTTPS server and control routes under /_emulator, and starts its own listeners.
  const exchangeOptions = options.exchange;
  const builtIn: ReadonlyArray<(core: EmulatorCore) => EmulatorExtension | Promise<EmulatorExtension>> =
    exchangeOptions === false ? [] : withGraph((core) => createExchangeExtension(core, exchangeOptions));
  // ── end EXCHANGE ───────────────────────────────────────────────────────────────────────────
  const extensions: EmulatorExtension[] = [];
  for (const create of [...builtIn, ...(options.extensions ?? [])]) extensions.push(await create(core));

  const servers: FastifyInstance[] = [];
  const serve = async (secure: boolean, port: number): Promise<string> => {
    const app = await buildServer(secure ? { key: tls.keyPem, cert: tls.certPem } : null);
    recordRequests(app, requestLog, clock);
    identity.registerRoutes(app, faults);
    for (const extension of extensions) await extension.registerRoutes?.(app);
    if (secure) {
      await registerControlApi(
        app,
        { directory, clock, faults, requestLog, identity, logger },
        controlToken,
        extensions.flatMap((e) => (e.controlRoutes === undefined ? [] : [e.controlRoutes])),
      );
    }
    await app.listen({ host, port });
    servers.push(app);
    const address = app.server.address();
    const actualPort = typeof address === 'object' && address !== null ? address.port : port;
    const hostPart = host.includes(':') ? `[${host}]` : host;
    return `${secure ? 'https' : 'http'}://${hostPart}:${actualPort}`;
  };

  const closeAll = async (): Promise<void> => {
    for (const extension of [...extensions].reverse()) await extension.close?.();
    for (const server of servers) await server.close();
  };

  try {
    const httpsUrl = await serve(true, options.port ?? 0);
    const firstTenant = directory.listTenants()[0];
    const urls: EmulatorHandle['urls'] = {
      https: httpsUrl,
      authority: firstTenant === undefined ? undefined : `${httpsUrl}/${firstTenant.id}`,
      control: `${httpsUrl}${CONTROL_PREFIX}`,
    };
    if (options.httpPort !== undefined) urls.http = await serve(false, options.httpPort);
    for (const extension of extensions) Object.assign(urls, (await extension.start?.()) ?? {});
    const fetchWithCa = createCaFetch(tls.caPem);
    logger.info('emulator started', { https: httpsUrl, caFile: tls.caFile });
    return {
      urls,
      caFile: tls.caFile,
      caPem: tls.caPem,
      tls,
      controlToken,
      directory,
      clock,
      identity,
      faults,
      requestLog,
      fetch: fetchWithCa,
      control: (method, route, body) =>
        fetchWithCa(`${urls.control}${route}`, {
          method,
          headers: {
            authorization: `Bearer ${controlToken}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        }),
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
