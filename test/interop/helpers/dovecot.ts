/**
 * A throwaway Dovecot (Debian's `dovecot-imapd`): IMAP over implicit TLS on a loopback port, its
 * configuration, base directory, state and mailboxes (sdbox) under one temporary directory, and two ways
 * to sign in:
 *
 * - XOAUTH2 and OAUTHBEARER through the `oauth2` passdb (when given an introspection endpoint),
 *   which asks the emulator's `POST /resource-server/introspect` (RFC 7662,
 *   `introspection_mode = post`) whether the token is live, and requires its `username` to be the
 *   user named in the SASL exchange;
 * - PLAIN and LOGIN with passwords from a passwd-file (password accounts, and the test's own
 *   client that delivers mail by APPEND).
 *
 * Its auth service also listens on a socket for Postfix's SASL (`smtpd_sasl_type = dovecot`), when
 * given one. The ingest benchmark (`bench/interop-ingest-bench.ts`) starts it with passwords alone.
 * Run as the current user; as root, the mail processes run as `nobody` (Dovecot never gives
 * mail to uid 0).
 *
 * @see https://doc.dovecot.org/2.3/configuration_manual/authentication/oauth2/
 * @see https://doc.dovecot.org/2.3/configuration_manual/howto/postfix_and_dovecot_sasl/
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort, readTail, startDaemon, waitForPort, type Daemon } from './processes.js';

export interface DovecotOptions {
  /** A directory of its own (created). */
  dir: string;
  /** The server certificate and key (PEM files) Dovecot presents. */
  certFile: string;
  keyFile: string;
  /**
   * The emulator's introspection URL and the CA file that its HTTPS certificate chains to; without
   * them, only passwords are accepted (no `oauth2` passdb).
   */
  introspection?: { url: string; caFile: string };
  /** Users who may sign in with a password. */
  passwords: Record<string, string>;
  /** Where the auth socket for Postfix goes (absolute path); none without it. */
  authSocket?: string;
}

export interface RunningDovecot {
  imapsPort: number;
  logFile: string;
  log(): string;
  /** Runs `doveadm` against this instance (its configuration); resolves with what it printed. */
  doveadm(args: readonly string[]): Promise<string>;
  stop(): Promise<void>;
}

const DOVECOT = '/usr/sbin/dovecot';
const DOVEADM = '/usr/bin/doveadm';
const run = promisify(execFile);

/** Whose processes read the mail: the current user, or `nobody` for root. */
function mailUser(): { uid: number; gid: number; login: string; internal: string } {
  const me = os.userInfo();
  if (me.uid !== 0) return { uid: me.uid, gid: me.gid, login: me.username, internal: me.username };
  return { uid: 65534, gid: 65534, login: 'dovenull', internal: 'dovecot' };
}

export async function startDovecot(options: DovecotOptions): Promise<RunningDovecot> {
  const { dir } = options;
  const user = mailUser();
  const mailDir = path.join(dir, 'mail');
  for (const sub of ['run', 'state', 'mail']) fs.mkdirSync(path.join(dir, sub), { recursive: true });
  fs.chmodSync(dir, 0o755);
  fs.chownSync(mailDir, user.uid, user.gid);
  if (options.authSocket !== undefined) fs.mkdirSync(path.dirname(options.authSocket), { recursive: true });
  const imapsPort = await freePort();
  const logFile = path.join(dir, 'dovecot.log');
  const passwd = Object.entries(options.passwords)
    .map(([name, password]) => `${name}:{PLAIN}${password}::::::`)
    .join('\n');
  fs.writeFileSync(path.join(dir, 'passwd'), `${passwd}\n`, { mode: 0o644 });
  const { introspection, authSocket } = options;
  if (introspection !== undefined)
    fs.writeFileSync(
      path.join(dir, 'oauth2.conf'),
      [
        'introspection_mode = post',
        `introspection_url = ${introspection.url}`,
        'force_introspection = yes',
        'username_attribute = username',
        'active_attribute = active',
        'active_value = true',
        `tls_ca_cert_file = ${introspection.caFile}`,
        '',
      ].join('\n'),
    );
  const oauth2Passdb =
    introspection === undefined
      ? ''
      : `passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = ${dir}/oauth2.conf
}
`;
  const authListener =
    authSocket === undefined
      ? ''
      : `service auth {
  unix_listener ${authSocket} {
    mode = 0666
  }
}
`;
  const conf = path.join(dir, 'dovecot.conf');
  fs.writeFileSync(
    conf,
    `# Written by test/interop/helpers/dovecot.ts for one test run.
instance_name = postern-interop-${path.basename(dir)}
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${logFile}
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <${options.certFile}
ssl_key = <${options.keyFile}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login${introspection === undefined ? '' : ' xoauth2 oauthbearer'}
auth_verbose = yes
# Refusals are answered at once: the suite refuses tokens on purpose, and Dovecot's anti-guessing
# delays (2 s per failure, and a penalty doubled per failure from one address, kept by anvil)
# would only slow it. A socket nobody may open turns the penalty off (Dovecot's documented way).
auth_failure_delay = 0
default_login_user = ${user.login}
default_internal_user = ${user.internal}
first_valid_uid = 1
mail_location = sdbox:${mailDir}/%u
# sdbox (Dovecot's own format, one file per message) rather than maildir, and no fsync: a
# throwaway server, filled with 10,000 messages by one test — maildir took 30-50 s for them (a
# rename and an uidlist update per message), sdbox about 4 s. IMAP behaviour does not change.
mail_fsync = never
mail_uid = ${user.uid}
mail_gid = ${user.gid}
namespace inbox {
  inbox = yes
  separator = /
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
  mailbox Junk {
    special_use = \\Junk
    auto = subscribe
  }
  mailbox Trash {
    special_use = \\Trash
    auto = subscribe
  }
}
${oauth2Passdb}passdb {
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u ${dir}/passwd
}
userdb {
  driver = static
  # Any user, without a passdb lookup: doveadm asks the userdb alone (the oauth2 passdb would
  # need a token to say that the user exists).
  args = uid=${user.uid} gid=${user.gid} home=${mailDir}/%u allow_all_users=yes
}
service imap-login {
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = ${imapsPort}
    ssl = yes
  }
}
${authListener}service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service stats {
  unix_listener stats-writer {
    mode = 0666
  }
}
`,
  );
  const daemon: Daemon = startDaemon('dovecot', DOVECOT, ['-F', '-c', conf]);
  try {
    await waitForPort(daemon, imapsPort, logFile);
  } catch (error) {
    await daemon.stop();
    throw error;
  }
  return {
    imapsPort,
    logFile,
    log: () => readTail(logFile),
    async doveadm(args) {
      const { stdout } = await run(DOVEADM, ['-c', conf, ...args], { timeout: 30_000 });
      return stdout;
    },
    stop: () => daemon.stop(),
  };
}
