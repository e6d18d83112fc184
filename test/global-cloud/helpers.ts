/**
 * Postern's `global` cloud against the emulator served under Microsoft's real host names: the
 * emulator's certificate carries login.microsoftonline.com, graph.microsoft.com,
 * outlook.office365.com and smtp.office365.com (`microsoftHostNames`), and the routes of
 * test/helpers/global-cloud-preload.mjs send those names to its loopback ports, trusting its CA on
 * those connections only. A Cloud Provider of cloud `global` needs no authority URL and no CA
 * file: it runs Postern's production discovery path unchanged.
 */
import { CONTOSO, startTestEmulator } from '../emulator/helpers/emulator.js';
import { installGlobalCloudRoutes } from '../helpers/global-cloud-preload.mjs';
import { startTestPostern } from '../helpers/postern.js';
import type { Pair } from '../providers/helpers.js';

export { CONTOSO };

export interface GlobalPair extends Pair {
  /** Connections that went through the routes, `host:port` (Postern's and the test's own). */
  routed: readonly string[];
}

/** The emulator under the real names, Postern in-process on the emulator's clock, the routes installed. */
export async function startGlobalPair(): Promise<GlobalPair> {
  const emulator = await startTestEmulator({ microsoftHostNames: true });
  const port = (url: string | undefined): number => Number(new URL((url ?? '').replace(/^smtp:/, 'http:')).port);
  const uninstall = installGlobalCloudRoutes({
    https: port(emulator.handle.urls.https),
    imap: port(emulator.handle.urls.imap),
    smtp: port(emulator.handle.urls.smtp),
    ca: emulator.handle.caPem,
  });
  const postern = await startTestPostern(
    {},
    { clock: () => emulator.handle.clock.now(), sleep: async () => undefined },
  );
  const admin = (await postern.bearer('admin')).authorization;
  return {
    emulator,
    postern,
    admin,
    routed: uninstall.routed,
    async close() {
      await postern.close();
      await emulator.stop();
      uninstall();
    },
  };
}
