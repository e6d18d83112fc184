#!/usr/bin/env node
/**
 * Makes sure the interop tests (`npm run test:interop`) have Dovecot and Postfix before they run.
 * The tests start throwaway instances of Debian's packages on loopback; they never download a
 * server of their own:
 *
 * - `dovecot` and `postfix` (with Postfix's `master`) present: nothing to do.
 * - missing, running as root with apt-get: `apt-get update` and
 *   `DEBIAN_FRONTEND=noninteractive apt-get install -y dovecot-imapd postfix`, with Postfix's
 *   debconf question answered "No configuration" first so that nothing is configured or started
 *   system-wide (the tests bring their own configuration).
 * - missing otherwise: the run fails with the exact command to type. Never a silent skip.
 *
 * Postfix's `master` runs only as root (it drops privileges to its `postfix` user), so the suite
 * needs root even when both packages are present; not root, the run stops and says so.
 *
 * With `--dovecot` (the ingest benchmark against Dovecot, `npm run bench:interop-ingest`): the same
 * for `dovecot-imapd` alone, and any user may run it.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

const DOVECOT_ONLY = process.argv.includes('--dovecot');
const PACKAGES = DOVECOT_ONLY ? ['dovecot-imapd'] : ['dovecot-imapd', 'postfix'];
const DEBCONF = 'postfix postfix/main_mailer_type select No configuration';
const INSTALL =
  `${DOVECOT_ONLY ? '' : `echo '${DEBCONF}' | debconf-set-selections && `}apt-get update && ` +
  `DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${PACKAGES.join(' ')}`;
const BINARIES = DOVECOT_ONLY
  ? ['/usr/sbin/dovecot', '/usr/bin/doveadm']
  : ['/usr/sbin/dovecot', '/usr/sbin/postfix', '/usr/lib/postfix/sbin/master'];
const WHAT = DOVECOT_ONLY ? 'The ingest benchmark against Dovecot' : 'The interop tests';

function fail(lines) {
  process.stderr.write(`\n${WHAT} cannot run: ${lines.join('\n')}\n\n`);
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

function run(command, args, options = {}) {
  process.stdout.write(`ensure-interop: ${command} ${args.join(' ')}\n`);
  const result = spawnSync(command, args, {
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'inherit', 'inherit'],
    input: options.input,
    env: { ...process.env, ...options.env },
  });
  if (result.error !== undefined) fail([`${command} could not run: ${result.error.message}`]);
  if (result.status !== 0) fail([`"${command} ${args.join(' ')}" failed (exit ${result.status ?? result.signal}).`]);
}

function hasAptGet() {
  return spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
}

const missing = BINARIES.filter((file) => !isExecutable(file));
if (missing.length > 0) {
  const root = process.getuid?.() === 0;
  if (!hasAptGet()) {
    fail([
      `${missing.join(', ')} missing, and this machine has no apt-get to install Debian's packages.`,
      `Install Dovecot (IMAP)${DOVECOT_ONLY ? '' : ' and Postfix'} with your system's package manager, then run again.`,
    ]);
  } else if (!root) {
    fail([
      `${missing.join(', ')} missing, and installing them needs root. Type:`,
      `  sudo sh -c "${INSTALL}"`,
      'then run again.',
    ]);
  } else {
    const started = Date.now();
    process.stdout.write(
      `ensure-interop: ${missing.join(', ')} missing; installing Debian's ${PACKAGES.join(' and ')}.\n`,
    );
    if (!DOVECOT_ONLY) run('debconf-set-selections', [], { input: `${DEBCONF}\n` });
    run('apt-get', ['update']);
    run('apt-get', ['install', '-y', '--no-install-recommends', ...PACKAGES], {
      env: { DEBIAN_FRONTEND: 'noninteractive' },
    });
    const still = BINARIES.filter((file) => !isExecutable(file));
    if (still.length > 0) fail([`apt-get installed ${PACKAGES.join(' ')} but ${still.join(', ')} still missing.`]);
    process.stdout.write(`ensure-interop: installed in ${Math.round((Date.now() - started) / 1000)} s.\n`);
  }
}

if (!DOVECOT_ONLY && process.getuid?.() !== 0) {
  fail([
    "Postfix's master process runs only as root (it drops privileges to the postfix user itself).",
    'Run the interop suite as root:  sudo npm run test:interop',
  ]);
}
