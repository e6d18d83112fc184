import { Command, CommanderError } from 'commander';
import { isPosternError } from '../errors/index.js';
import { registerAccountCommands } from './commands/accounts.js';
import { registerAdminCommands } from './commands/admin.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerDoctorCommand } from './commands/doctor.js';
import { registerEmulatorCommand } from './commands/emulator.js';
import { registerLogsCommand } from './commands/logs.js';
import { registerNodesCommand } from './commands/nodes.js';
import { registerProviderCommands } from './commands/providers.js';
import { registerStartCommand } from './commands/start.js';
import { registerWebhookCommands } from './commands/webhooks.js';
import { VERSION } from './runtime.js';

/** The `postern` command line; what each command does is in commands/, the wiring in runtime.ts. */
export function buildProgram(): Command {
  const program = new Command('postern')
    .description('Email channel server for Microsoft 365 mailboxes with Modern Authentication')
    .version(VERSION)
    .showHelpAfterError('(add --help for usage)');
  registerStartCommand(program);
  registerAdminCommands(program);
  registerProviderCommands(program);
  registerAccountCommands(program);
  registerDoctorCommand(program);
  registerEmulatorCommand(program);
  registerDemoCommand(program);
  registerLogsCommand(program);
  registerWebhookCommands(program);
  registerNodesCommand(program);
  return program;
}

/** Prints an error as a person can act on it: code, message, remedy. Never a stack for known errors. */
export function reportError(error: unknown): number {
  if (isPosternError(error)) {
    process.stderr.write(`Error ${error.code}: ${error.message}\n`);
    if (error.remedy !== undefined) process.stderr.write(`What to do: ${error.remedy}\n`);
    return error.code === 'CONFIG_INVALID' ? 78 : 1;
  }
  if (error instanceof CommanderError) return error.exitCode;
  process.stderr.write(
    `Unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  return 1;
}
