import fs from 'node:fs';
import type { Command } from 'commander';
import { loadConfig } from '../../config/index.js';
import { PosternError } from '../../errors/index.js';
import {
  formatLogEntry,
  listDayFiles,
  LogFollower,
  matchesLogFilter,
  parseLogLine,
  parseSince,
  readLogEntries,
  type LogFilter,
  type LogKind,
} from '../../log/log-reader.js';
import { findEmailAccountByKey, openDatabase, parseDatabaseUrl } from '../../store/index.js';

interface LogsOptions {
  account?: string;
  errors?: boolean;
  since?: string;
  follow?: boolean;
  json?: boolean;
  level?: string;
}

const LEVELS: Readonly<Record<string, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

/**
 * The id of the account with this key, when the database can be read without the secret key
 * (it only needs the account row); lines that carry only `accountId` then match too.
 */
async function accountIdOf(databaseUrl: string, key: string): Promise<number | undefined> {
  try {
    // Never create an empty embedded database just to read logs.
    const location = parseDatabaseUrl(databaseUrl);
    if (location.engine === 'sqlite' && !fs.existsSync(location.filename)) return undefined;
    const db = await openDatabase(databaseUrl, { timeoutMs: 2000 });
    try {
      return (await findEmailAccountByKey(db, key))?.id;
    } finally {
      await db.close();
    }
  } catch {
    return undefined;
  }
}

/** `postern logs`: reads the day files in the log directory. */
export function registerLogsCommand(program: Command): void {
  program
    .command('logs')
    .description('Show the log files (email-combined, or email-error with --errors), oldest first')
    .option('--account <key>', 'only lines about this email account (its key)')
    .option('--errors', 'read the email-error files (errors only)')
    .option('--since <when>', 'only lines from this time: an ISO date or date-time, or 30m, 2h, 7d back from now')
    .option('--level <level>', 'lowest level shown: trace, debug, info, warn, error')
    .option('-f, --follow', 'keep printing lines as they are written')
    .option('--json', 'print the JSON lines as written')
    .action(async (opts: LogsOptions) => {
      const config = loadConfig();
      const now = new Date();
      const since = opts.since === undefined ? undefined : parseSince(opts.since, now);
      if (opts.since !== undefined && since === undefined) {
        throw new PosternError('VALIDATION_FAILED', {
          message: `--since "${opts.since}" is neither a date (2026-01-31, 2026-01-31T08:00:00Z) nor a duration (30m, 2h, 7d).`,
        });
      }
      const minLevel = opts.level === undefined ? undefined : LEVELS[opts.level.toLowerCase()];
      if (opts.level !== undefined && minLevel === undefined) {
        throw new PosternError('VALIDATION_FAILED', {
          message: `--level "${opts.level}" is not one of ${Object.keys(LEVELS).join(', ')}.`,
        });
      }
      const account =
        opts.account === undefined
          ? undefined
          : { key: opts.account, ...withId(await accountIdOf(config.databaseUrl, opts.account)) };
      const filter: LogFilter = {
        ...(account === undefined ? {} : { account }),
        ...(since === undefined ? {} : { since }),
        ...(minLevel === undefined ? {} : { minLevel }),
      };
      const kind: LogKind = opts.errors === true ? 'error' : 'combined';
      const color = process.stdout.isTTY && opts.json !== true;
      const show = (raw: string): void => {
        const entry = parseLogLine(raw);
        if (matchesLogFilter(entry, filter))
          process.stdout.write(`${opts.json === true ? entry.raw : formatLogEntry(entry, { color })}\n`);
      };
      const files = listDayFiles(config.logDir, kind, since);
      if (files.length === 0 && opts.follow !== true) {
        process.stderr.write(
          `No email-${kind} log files in ${config.logDir}${since === undefined ? '' : ` since ${since.toISOString()}`}.\n`,
        );
        return;
      }
      if (opts.follow !== true) {
        for (const entry of readLogEntries(files, filter)) show(entry.raw);
        return;
      }
      // Earlier days from their files; today's through the follower, from its first line, so that
      // nothing written meanwhile is missed or shown twice.
      const follower = new LogFollower(config.logDir, kind, show);
      for (const entry of readLogEntries(
        files.filter((file) => file.path !== follower.currentPath()),
        filter,
      ))
        show(entry.raw);
      follower.start(500, true);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          follower.stop();
          resolve();
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}

function withId(id: number | undefined): { id?: number } {
  return id === undefined ? {} : { id };
}
