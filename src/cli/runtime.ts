import fs, { readFileSync } from 'node:fs';
import { loadConfig, type Config, type ConfigKey } from '../config/index.js';
import { createLogger, type LogBundle } from '../log/index.js';
import { isPosternError } from '../errors/index.js';
import { createServices, type Services } from '../services/index.js';
import { pendingKeyFile } from '../services/secret-service.js';
import {
  decodeKeyText,
  ensureKeyCheck,
  loadSecretKey,
  migrateToLatest,
  openDatabase,
  SecretBox,
  type Database,
} from '../store/index.js';

/** Everything a command needs, opened in dependency order and closed in reverse. */
export interface Runtime {
  config: Config;
  log: LogBundle;
  db: Database;
  box: SecretBox;
  services: Services;
  close(): Promise<void>;
}

/** The version in package.json, found by walking up from this file (source or dist/). */
export const VERSION: string = readVersion();

function readVersion(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const manifest = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (manifest.name === 'postern' && manifest.version !== undefined) return manifest.version;
    } catch {
      // not at this depth
    }
  }
  return '0.0.0';
}

export interface RuntimeOptions {
  overrides?: Partial<Record<ConfigKey, string>>;
  /** The environment to read instead of process.env (tests). */
  env?: Record<string, string | undefined>;
  /** Directory whose .env is read and against which relative paths resolve. */
  cwd?: string;
  /** The clock stamping rows and judging expiries (tests move it). */
  clock?: () => Date;
  /** Waits between retries (tests make it instant). */
  sleep?: (ms: number) => Promise<void>;
  /** Commands that print to the terminal keep the console free of log lines. */
  quiet?: boolean;
}

/**
 * The secret box whose key opens this database. When a rotation was interrupted after its commit
 * and before the key file moved, the pending `<key file>.new` holds the right key: finish the move.
 */
async function checkedSecretBox(db: Database, box: SecretBox, config: Config, fromEnv: boolean): Promise<SecretBox> {
  try {
    await ensureKeyCheck(db, box);
    return box;
  } catch (error) {
    const pending = fromEnv ? undefined : pendingKeyFile(config.secretKeyFile);
    if (!isPosternError(error, 'SECRET_KEY_INVALID') || pending === undefined) throw error;
    const next = new SecretBox(decodeKeyText(fs.readFileSync(pending, 'utf8'), pending));
    await ensureKeyCheck(db, next);
    fs.renameSync(config.secretKeyFile, `${config.secretKeyFile}.${box.keyId}.old`);
    fs.renameSync(pending, config.secretKeyFile);
    return next;
  }
}

/**
 * The composition root: config → logs → secret key → database (migrated) → services. A wrong
 * secret key or an unreachable database stops here, before anything listens.
 */
export async function openRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const config = loadConfig({ overrides: options.overrides, env: options.env, cwd: options.cwd });
  const consoleWanted = config.logConsole === 'auto' ? !options.quiet : config.logConsole;
  const log = createLogger({ level: config.logLevel, dir: config.logDir, console: consoleWanted });
  let db: Database | undefined;
  try {
    const key = loadSecretKey({ envValue: config.secretKey, keyFile: config.secretKeyFile });
    for (const warning of key.warnings) log.logger.warn(warning);
    db = await openDatabase(config.databaseUrl, options.clock === undefined ? {} : { clock: options.clock });
    await migrateToLatest(db);
    const box = await checkedSecretBox(db, new SecretBox(key.key), config, key.source === 'environment');
    const services = createServices({
      db,
      box,
      logger: log.logger,
      config,
      ...(options.sleep === undefined ? {} : { sleep: options.sleep }),
    });
    const opened = db;
    return {
      config,
      log,
      db: opened,
      box,
      services,
      close: async () => {
        await opened.close();
        log.close();
      },
    };
  } catch (error) {
    await db?.close().catch(() => undefined);
    log.close();
    throw error;
  }
}
