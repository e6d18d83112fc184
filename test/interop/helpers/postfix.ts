/**
 * A throwaway Postfix (Debian's package): the submission service on a loopback port with
 * STARTTLS required before AUTH, SASL through Dovecot's auth socket (so XOAUTH2, OAUTHBEARER and
 * passwords are checked by Dovecot), and every accepted message relayed to one loopback SMTP sink
 * — the simplest real path that proves Postfix accepted and delivered it. Its configuration,
 * queue and data directories live under one temporary directory; `master -d` runs it in the
 * foreground so that the test stops it by process id. Postfix needs root (it drops privileges to
 * its `postfix` user).
 *
 * @see https://www.postfix.org/SASL_README.html#server_dovecot
 * @see https://www.postfix.org/master.8.html
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, readTail, startDaemon, waitForPort } from './processes.js';

export interface PostfixOptions {
  dir: string;
  certFile: string;
  keyFile: string;
  /** Dovecot's auth socket (absolute path). */
  authSocket: string;
  /** Where every accepted message is relayed (plain SMTP on loopback). */
  relayPort: number;
}

export interface RunningPostfix {
  submissionPort: number;
  log(): string;
  stop(): Promise<void>;
}

const POSTFIX = '/usr/sbin/postfix';
const MASTER = '/usr/lib/postfix/sbin/master';

export async function startPostfix(options: PostfixOptions): Promise<RunningPostfix> {
  const { dir } = options;
  const configDir = path.join(dir, 'etc');
  const queueDir = path.join(dir, 'queue');
  const dataDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'postfix.log');
  for (const sub of [configDir, queueDir, dataDir]) fs.mkdirSync(sub, { recursive: true });
  fs.chmodSync(dir, 0o755);
  // master refuses a data directory its mail owner does not own.
  const owner = spawnSync('id', ['-u', 'postfix'], { encoding: 'utf8' });
  if (owner.status !== 0) throw new Error("the postfix user is missing: install Debian's postfix package");
  fs.chownSync(dataDir, Number(owner.stdout.trim()), -1);
  const submissionPort = await freePort();
  fs.writeFileSync(
    path.join(configDir, 'main.cf'),
    `# Written by test/interop/helpers/postfix.ts for one test run.
compatibility_level = 3.6
queue_directory = ${queueDir}
data_directory = ${dataDir}
mail_owner = postfix
setgid_group = postdrop
maillog_file = ${logFile}
maillog_file_prefixes = ${dir}
myhostname = postfix.interop.test
mydomain = interop.test
myorigin = $myhostname
mydestination =
local_transport = error:local delivery is off
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:${options.relayPort}
smtp_dns_support_level = disabled
smtp_tls_security_level = none
smtpd_tls_cert_file = ${options.certFile}
smtpd_tls_key_file = ${options.keyFile}
smtpd_tls_security_level = encrypt
smtpd_tls_auth_only = yes
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = ${options.authSocket}
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_recipient_restrictions = permit_sasl_authenticated, reject
message_size_limit = 36700160
biff = no
`,
  );
  fs.writeFileSync(
    path.join(configDir, 'master.cf'),
    `# service type private unpriv chroot wakeup maxproc command
127.0.0.1:${submissionPort} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`,
  );
  // Creates the queue's directories with their owners and modes (postfix-script's own step).
  const created = spawnSync(POSTFIX, ['-c', configDir, 'check'], { encoding: 'utf8' });
  if (created.status !== 0) throw new Error(`postfix check failed: ${created.stderr}${created.stdout}`);
  const daemon = startDaemon('postfix', MASTER, ['-d', '-c', configDir]);
  try {
    await waitForPort(daemon, submissionPort, logFile);
  } catch (error) {
    await daemon.stop();
    throw error;
  }
  return { submissionPort, log: () => readTail(logFile), stop: () => daemon.stop() };
}
