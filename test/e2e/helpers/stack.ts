/**
 * The whole system for the browser tests: the Microsoft 365 emulator and a real, listening
 * Postern (the same startServer as `postern start`), pointed at each other the way an
 * administrator would: the emulator's app registration lists Postern's redirect URI, and
 * Postern's public URL is the address the browser uses.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startServer, type RunningServer } from '../../../src/cli/commands/start.js';
import { defaultBundleDirectory } from '../../../src/http/plugins/web-ui.js';
import { CONTOSO, startTestEmulator, type TestEmulator } from '../../emulator/helpers/emulator.js';

export { CONTOSO };

export interface Stack {
  emulator: TestEmulator;
  server: RunningServer;
  /** http://localhost:PORT — the public URL; the browser uses it. */
  url: string;
  /** The emulator's server certificate (PEM), which the browser is told to accept. */
  emulatorCertPem: string;
  admin: { username: string; password: string };
  close(): Promise<void>;
}

/** Fails clearly when the UI bundle has not been built (npm test builds it first). */
function requireBundle(): void {
  const index = path.join(defaultBundleDirectory(), 'index.html');
  if (!fs.existsSync(index)) throw new Error(`${index} is missing: run "npm run build" first (npm test does).`);
}

export async function startStack(): Promise<Stack> {
  requireBundle();
  const emulatorDir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-e2e-emulator-'));
  const emulator = await startTestEmulator({ dataDir: emulatorDir });
  const port = await freePort();
  const url = `http://localhost:${port}`;
  await emulator.control('PATCH', `/apps/${CONTOSO.web.appId}`, {
    redirectUris: { web: [`${url}/api/cloudProviders/oauth2/microsoft/callback`] },
  });

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-e2e-'));
  let password = '';
  const server = await startServer({
    cwd: dataDir,
    env: {
      POSTERN_DATA_DIR: dataDir,
      POSTERN_HOST: '127.0.0.1',
      POSTERN_PORT: String(port),
      POSTERN_PUBLIC_URL: url,
      POSTERN_LOG_CONSOLE: 'false',
      POSTERN_LOG_LEVEL: 'info',
      // The console test's webhook receiver listens on loopback.
      POSTERN_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1',
      TZ: 'UTC',
    },
    print: (line) => {
      const match = /with the password: (\S+)/.exec(line);
      if (match?.[1] !== undefined) password = match[1];
    },
  });
  if (password === '') throw new Error("Postern did not print the first administrator's password");
  return {
    emulator,
    server,
    url,
    emulatorCertPem: fs.readFileSync(path.join(emulatorDir, 'server.pem'), 'utf8'),
    admin: { username: 'admin', password },
    async close() {
      await server.stop();
      await emulator.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
      fs.rmSync(emulatorDir, { recursive: true, force: true });
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        address !== null && typeof address === 'object' ? resolve(address.port) : reject(new Error('no free port')),
      );
    });
  });
}
