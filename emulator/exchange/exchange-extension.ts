/**
 * The Exchange half as an emulator extension: built from the identity half's core (directory,
 * token introspection, clock, TLS certificate, data directory), it starts the IMAP and SMTP
 * listeners, adds its control routes under `/_emulator/exchange/...`, and re-checks live sessions
 * and delayed deliveries whenever the emulator's clock jumps.
 */
import type { EmulatorCore, EmulatorExtension } from '../main.js';
import { exchangeControlRoutes } from './control-routes.js';
import { createDirectoryAccess, exchangeClockOf } from './directory-access.js';
import { ExchangeService, type ExchangeServiceOptions } from './exchange-service.js';

/** What `postern emulator` and tests may tune. */
export interface ExchangeExtensionOptions {
  /** Keep mail in memory only, even though the emulator has a data directory. */
  readonly inMemory?: boolean;
  readonly imap?: ExchangeServiceOptions['imap'];
  readonly smtp?: ExchangeServiceOptions['smtp'];
  /** Accept passwords on IMAP and/or SMTP from the start (default: neither, as Exchange Online). */
  readonly basicAuth?: ExchangeServiceOptions['basicAuth'];
}

/** The running Exchange half, reachable from tests through the extension. */
export interface ExchangeExtension extends EmulatorExtension {
  readonly service: ExchangeService;
}

export function createExchangeExtension(core: EmulatorCore, options: ExchangeExtensionOptions = {}): ExchangeExtension {
  const clock = exchangeClockOf(core.clock);
  const access = createDirectoryAccess({
    directory: core.directory,
    introspect: core.identity.introspectAccessToken,
    clock,
  });
  const service = new ExchangeService({
    access,
    clock,
    tls: { key: core.tls.keyPem, cert: core.tls.certPem },
    dataDir: options.inMemory === true ? undefined : core.dataDir,
    host: core.host,
    imap: options.imap,
    smtp: options.smtp,
    basicAuth: options.basicAuth,
    tenantDomainOf: (address) => {
      const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
      return domain.length === 0 ? undefined : core.directory.findTenant(domain)?.domains[0];
    },
  });
  let unsubscribe: (() => void) | undefined;
  return {
    name: 'exchange',
    service,
    controlRoutes: exchangeControlRoutes(service),
    async start() {
      const endpoints = await service.start();
      unsubscribe = core.clock.onChange(() => void service.onClockChanged());
      core.logger.info('exchange started', { imap: endpoints.imap.port, smtp: endpoints.smtp.port });
      return {
        imap: `imaps://${endpoints.imap.host}:${endpoints.imap.port}`,
        smtp: `smtp://${endpoints.smtp.host}:${endpoints.smtp.port}`,
      };
    },
    async close() {
      unsubscribe?.();
      await service.stop();
    },
  };
}
