import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { describeConfig, loadConfig } from '../../config/index.js';
import { PosternError } from '../../errors/index.js';
import { compactDatabase } from '../../store/compaction.js';
import { parseDatabaseUrl } from '../../store/database-url.js';
import { print, withRuntime } from '../with-runtime.js';

/** A password from standard input (first line), or undefined when stdin is a terminal. */
function passwordFromStdin(enabled: boolean | undefined): string | undefined {
  if (!enabled) return undefined;
  const line = readFileSync(0, 'utf8').split(/\r?\n/)[0] ?? '';
  if (line === '') throw new PosternError('VALIDATION_FAILED', { message: 'No password was given on standard input.' });
  return line;
}

function table(rows: Array<Record<string, string | number | null>>): void {
  if (rows.length === 0) {
    print('(none)');
    return;
  }
  const columns = Object.keys(rows[0] ?? {});
  const width = (c: string) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length));
  print(columns.map((c) => c.padEnd(width(c))).join('  '));
  for (const row of rows) print(columns.map((c) => String(row[c] ?? '').padEnd(width(c))).join('  '));
}

export function registerAdminCommands(program: Command): void {
  program
    .command('migrate')
    .description('Bring the database schema up to date (also done by "start")')
    .action(() => withRuntime(async () => print('The database schema is up to date.')));

  program
    .command('vacuum')
    .description(
      'Give the space of deleted rows back to the disk (SQLite: rewrites postern.db once, with every Postern process stopped)',
    )
    .action(() =>
      withRuntime(async ({ config, db, services }) => {
        const running = db.engine === 'sqlite' ? await services.cluster.othersRunning() : [];
        const other = running[0];
        if (other !== undefined) {
          throw new PosternError('STORE_VACUUM_REFUSED', {
            message: `Postern is running on this database: pid ${other.pid} on ${other.host}, started ${other.startedAt}. Compacting SQLite needs the database to itself.`,
            details: { host: other.host, pid: other.pid, nodeId: other.id },
          });
        }
        const location = parseDatabaseUrl(config.databaseUrl);
        const done = await compactDatabase(db, location.engine === 'sqlite' ? { sqliteFile: location.filename } : {});
        const size = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
        print(`Compacted: ${size(done.bytesBefore)} → ${size(done.bytesAfter)}.`);
        if (done.converted)
          print('The file now gives space back by itself as originals are removed (incremental auto-vacuum).');
        if (done.engine === 'postgres')
          print('PostgreSQL reuses the space of deleted rows; its files shrink only at their end (see docs).');
      }),
    );

  const config = program.command('config').description('Inspect the configuration');
  config
    .command('show')
    .description('Print the configuration with secrets redacted')
    .action(() => {
      for (const row of describeConfig(loadConfig())) print(`${row.env}=${row.value}    # ${row.description}`);
    });

  const users = program.command('users').description('Manage administrators and agents');
  users
    .command('add <username>')
    .description('Create a user; the password is read from stdin with --password-stdin, or generated and printed')
    .option('--role <role>', 'admin or agent', 'agent')
    .option('--name <displayName>', 'display name')
    .option('--password-stdin', 'read the password from standard input')
    .action((username: string, opts: { role: string; name?: string; passwordStdin?: boolean }) =>
      withRuntime(async ({ services }) => {
        if (opts.role !== 'admin' && opts.role !== 'agent') {
          throw new PosternError('VALIDATION_FAILED', {
            message: `--role must be admin or agent, not "${opts.role}".`,
          });
        }
        const given = passwordFromStdin(opts.passwordStdin);
        const password = given ?? services.users.generatePassword();
        const user = await services.users.create({ username, role: opts.role, displayName: opts.name, password });
        print(`Created ${user.role} "${user.username}" (id ${user.id}).`);
        if (given === undefined) print(`Password (shown once): ${password}`);
      }),
    );
  users
    .command('list')
    .description('List users')
    .action(() =>
      withRuntime(async ({ services }) => {
        const list = await services.users.list();
        table(
          list.map((u) => ({
            id: u.id,
            username: u.username,
            role: u.role,
            disabled: u.disabled ? 'yes' : 'no',
            lastLogin: u.lastLoginAt,
          })),
        );
      }),
    );
  users
    .command('passwd <username>')
    .description('Set a new password for a user (read from stdin with --password-stdin, or generated and printed)')
    .option('--password-stdin', 'read the password from standard input')
    .action((username: string, opts: { passwordStdin?: boolean }) =>
      withRuntime(async ({ services }) => {
        const given = passwordFromStdin(opts.passwordStdin);
        const password = given ?? services.users.generatePassword();
        const user = await services.users.getByUsername(username);
        await services.users.update(user.id, { password });
        print(`The password of "${user.username}" was changed; their sessions were ended.`);
        if (given === undefined) print(`New password (shown once): ${password}`);
      }),
    );

  const tokens = program.command('tokens').description('Manage API tokens for integrators');
  tokens
    .command('create <name>')
    .description('Create an API token; it is printed once')
    .requiredOption('--user <username>', 'the user the token acts as')
    .action((name: string, opts: { user: string }) =>
      withRuntime(async ({ services }) => {
        const user = await services.users.getByUsername(opts.user);
        const created = await services.tokens.create(user.id, name);
        print(`Created token ${created.record.id} "${name}" for ${user.username} (${user.role}).`);
        print(`Token (shown once): ${created.token}`);
      }),
    );
  tokens
    .command('list')
    .description('List API tokens')
    .action(() =>
      withRuntime(async ({ services }) => {
        const list = await services.tokens.listAll();
        table(
          list.map((t) => ({
            id: t.id,
            name: t.name,
            user: t.userId,
            prefix: t.prefix,
            lastUsed: t.lastUsedAt,
            revoked: t.revokedAt,
          })),
        );
      }),
    );
  tokens
    .command('revoke <id>')
    .description('Revoke an API token')
    .action((id: string) =>
      withRuntime(async ({ services }) => {
        await services.tokens.revoke(Number(id));
        print(`Token ${id} was revoked.`);
      }),
    );

  const secrets = program.command('secrets').description('Manage the key that encrypts secrets at rest');
  secrets
    .command('rotate')
    .description(
      'Re-encrypt every stored secret with a new key, check that every one opens with it, and write it to the key file, removing the previous key (or print it when the key comes from POSTERN_SECRET_KEY)',
    )
    .option('--keep-old-key', 'keep the previous key file as <key file>.<key id>.old instead of removing it')
    .action((opts: { keepOldKey?: boolean }) =>
      withRuntime(async ({ services }) => {
        const result = await services.secrets.rotate({ keepOldKey: opts.keepOldKey === true });
        print(`Re-encrypted ${result.total} secret(s) with the new key ${result.keyId}.`);
        print(`Verified: all ${result.verified} stored secret(s) open with the new key.`);
        if (result.printedKey !== undefined) {
          print(
            'POSTERN_SECRET_KEY is set in the environment: replace its value with the new key before the next start:',
          );
          print(result.printedKey);
        } else if (result.backupFile !== undefined) {
          print(
            `The new key is in ${result.keyFile}; the previous key was kept as ${result.backupFile} (remove it once no backup needs it).`,
          );
        } else {
          print(`The new key is in ${result.keyFile}; the previous key file was removed.`);
        }
      }),
    );
}
