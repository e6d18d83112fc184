import path from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { startEmulator, type EmulatorHandle } from '../../../emulator/main.js';
import { createConsoleLogger } from '../../../emulator/log.js';

/** Options of `postern emulator`. */
export interface EmulatorCommandOptions {
  seed?: string;
  port: number;
  host: string;
  data: string;
  http?: number;
  controlToken?: string;
  deviceInterval?: number;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new InvalidArgumentError('expected a port number (0-65535)');
  return port;
}

function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

/** The lines `postern emulator` prints once it listens. */
function describeEmulator(handle: EmulatorHandle): string[] {
  const tenants = handle.directory.listTenants();
  const lines = [
    'Postern Microsoft 365 emulator (not Microsoft) is running.',
    `  Identity platform:  ${handle.urls.https}   (use as the authority host, e.g. ${handle.urls.authority ?? `${handle.urls.https}/{tenant}`})`,
    `  Control API:        ${handle.urls.control}`,
    `  Control token:      ${handle.controlToken}`,
    `  CA certificate:     ${handle.caFile}   (trust it: NODE_EXTRA_CA_CERTS=${handle.caFile})`,
  ];
  if (handle.urls.http !== undefined) lines.push(`  Plain http (debug): ${handle.urls.http}`);
  for (const [name, url] of Object.entries(handle.urls)) {
    if (!['https', 'authority', 'control', 'http'].includes(name) && url !== undefined) lines.push(`  ${name}: ${url}`);
  }
  for (const t of tenants) {
    lines.push(`  Tenant ${t.displayName}: ${t.id} (${t.domains.join(', ')})`);
    lines.push(`    discovery: ${handle.urls.https}/${t.id}/v2.0/.well-known/openid-configuration`);
  }
  lines.push('Press Ctrl+C to stop.');
  return lines;
}

/** Where the command prints and how it waits to stop; replaced in tests. */
export interface EmulatorCommandIo {
  print(line: string): void;
  /** Resolves when the emulator should stop (SIGINT/SIGTERM by default). */
  waitForStop(handle: EmulatorHandle): Promise<void>;
}

function waitForSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

const defaultIo: EmulatorCommandIo = {
  print: (line) => process.stdout.write(`${line}\n`),
  waitForStop: () => waitForSignal(),
};

/**
 * `postern emulator`: starts the Microsoft 365 emulator on loopback and prints its URLs, the CA
 * file and the control token. The only place where `src/` reaches `emulator/`.
 */
export function registerEmulatorCommand(program: Command, io: EmulatorCommandIo = defaultIo): void {
  program
    .command('emulator')
    .description(
      'Run the Microsoft 365 emulator (Entra ID identity platform, control API) on loopback, for tests and demos',
    )
    .option(
      '--seed <file>',
      'seed file (JSON) describing tenants, users, apps and mailboxes (default: the sample Contoso tenant)',
    )
    .option('--port <n>', 'HTTPS port (0 picks a free one)', parsePort, 8443)
    .option('--host <address>', 'loopback address to listen on', '127.0.0.1')
    .option('--data <dir>', 'data directory for the CA, certificates and signing keys', path.join('data', 'emulator'))
    .option('--http <port>', 'also serve plain http on this port (debugging only)', parsePort)
    .option('--control-token <token>', 'use this control API token instead of a random one')
    .option('--device-interval <seconds>', 'device-code polling interval returned to clients', parsePositive)
    .action(async (options: EmulatorCommandOptions) => {
      const handle = await startEmulator({
        dataDir: options.data,
        port: options.port,
        host: options.host,
        logger: createConsoleLogger(),
        ...(options.seed === undefined ? {} : { seed: options.seed }),
        ...(options.http === undefined ? {} : { httpPort: options.http }),
        ...(options.controlToken === undefined ? {} : { controlToken: options.controlToken }),
        ...(options.deviceInterval === undefined
          ? {}
          : { identity: { deviceCodeIntervalSeconds: options.deviceInterval } }),
      });
      for (const line of describeEmulator(handle)) io.print(line);
      try {
        await io.waitForStop(handle);
      } finally {
        await handle.close();
      }
    });
}
