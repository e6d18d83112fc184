#!/usr/bin/env node
/**
 * Makes sure the browser tests have their Chromium before they run (`npm test`, `npm run
 * test:e2e` and `npm run screenshots` call this first). The tests drive Debian's Chromium through
 * playwright-core and never download a browser of their own:
 *
 * - POSTERN_E2E_CHROMIUM set: that executable must exist; nothing is installed.
 * - /usr/bin/chromium present: nothing to do.
 * - missing, running as root with apt-get: `apt-get update` and
 *   `DEBIAN_FRONTEND=noninteractive apt-get install -y chromium` (Debian's package, from the
 *   machine's own package sources).
 * - missing otherwise: the run fails with the exact command to type. Never a silent skip.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

const DEFAULT_PATH = '/usr/bin/chromium';
const INSTALL = 'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium';

function fail(lines) {
  process.stderr.write(`\nThe browser tests cannot run: ${lines.join('\n')}\n\n`);
  process.exit(1);
}

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function run(command, args, env) {
  process.stdout.write(`ensure-chromium: ${command} ${args.join(' ')}\n`);
  const result = spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  if (result.error !== undefined) fail([`${command} could not run: ${result.error.message}`]);
  if (result.status !== 0) fail([`"${command} ${args.join(' ')}" failed (exit ${result.status ?? result.signal}).`]);
}

function hasAptGet() {
  return spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
}

const chosen = process.env.POSTERN_E2E_CHROMIUM;
if (chosen !== undefined && chosen !== '') {
  if (!isExecutable(chosen)) fail([`POSTERN_E2E_CHROMIUM is ${chosen}, which is not an executable file.`]);
} else if (!isExecutable(DEFAULT_PATH)) {
  const root = process.getuid?.() === 0;
  if (!hasAptGet()) {
    fail([
      `Chromium is missing (${DEFAULT_PATH}) and this machine has no apt-get to install Debian's package.`,
      "Install Chromium with your system's package manager, then run the tests with",
      '  POSTERN_E2E_CHROMIUM=/path/to/chromium npm test',
    ]);
  } else if (!root) {
    fail([
      `Chromium is missing (${DEFAULT_PATH}) and installing it needs root. Type:`,
      `  sudo sh -c '${INSTALL}'`,
      'then run the tests again.',
    ]);
  } else {
    process.stdout.write(`ensure-chromium: ${DEFAULT_PATH} is missing; installing Debian's chromium package.\n`);
    run('apt-get', ['update']);
    run('apt-get', ['install', '-y', 'chromium'], { DEBIAN_FRONTEND: 'noninteractive' });
    if (!isExecutable(DEFAULT_PATH)) fail([`apt-get installed chromium but ${DEFAULT_PATH} is still missing.`]);
  }
}
