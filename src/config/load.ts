import fs from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import { PosternError } from '../errors/index.js';
import { KEYS, defaultValues, type Config, type ConfigKey } from './schema.js';

export interface LoadConfigOptions {
  /** The process environment (injected for tests). */
  env?: Record<string, string | undefined>;
  /** Directory whose `.env` is read and against which relative paths resolve. */
  cwd?: string;
  /** A JSON configuration file; `POSTERN_CONFIG_FILE` names one too. */
  file?: string;
  /** Values given on the command line; they win over everything else. */
  overrides?: Partial<Record<ConfigKey, string>>;
}

export interface ConfigProblem {
  variable: string;
  expected: string;
  /** The offending value, omitted for secret keys. */
  received?: string;
}

const CONFIG_FILE_SCHEMA = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));

/**
 * Loads the configuration once, synchronously, before anything starts. Sources, weakest first:
 * defaults, the JSON file, `.env`, the environment, command-line overrides. Every problem is
 * reported at once in one CONFIG_INVALID error naming each variable and what it expects.
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const cwd = options.cwd ?? process.cwd();
  const problems: ConfigProblem[] = [];
  const raw = readSources(options, cwd, problems);

  const dataDir = path.resolve(cwd, raw('dataDir') ?? 'data');
  const portRaw = raw('port') ?? '8080';
  const portParsed = KEYS.port.schema.safeParse(portRaw);
  const defaults = defaultValues({ dataDir, port: portParsed.success ? portParsed.data : 8080 });

  const values: Partial<Record<ConfigKey, unknown>> = {};
  for (const key of Object.keys(KEYS) as ConfigKey[]) {
    const definition: { env: string; schema: z.ZodType; secret?: boolean } = KEYS[key];
    const value = key === 'dataDir' ? dataDir : (raw(key) ?? defaults[key]);
    if (key === 'secretKey' && value === '') continue;
    const parsed = definition.schema.safeParse(value);
    if (parsed.success) {
      values[key] = parsed.data;
    } else {
      problems.push({
        variable: definition.env,
        expected: parsed.error.issues[0]?.message ?? 'a valid value',
        ...(definition.secret ? {} : { received: value }),
      });
    }
  }

  if (problems.length > 0) throw configError(problems);
  return Object.freeze(finish(values, cwd));
}

/**
 * `POSTERN_MAX_HEAP_MB` alone, from the same sources as {@link loadConfig}: `postern start` decides
 * its heap limit before the program loads (cli/heap-limit.ts). Problems of other keys and of the
 * sources are left to `loadConfig`; an invalid value of this key is refused with CONFIG_INVALID
 * naming it.
 */
export function loadMaxHeapSetting(options: LoadConfigOptions = {}): Config['maxHeapMb'] {
  const raw = readSources(options, options.cwd ?? process.cwd(), []);
  const value = raw('maxHeapMb') ?? defaultValues({ dataDir: '.', port: 0 }).maxHeapMb;
  const parsed = KEYS.maxHeapMb.schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw configError([
    { variable: KEYS.maxHeapMb.env, expected: parsed.error.issues[0]?.message ?? 'a valid value', received: value },
  ]);
}

/** The raw value of a key from the sources, strongest first: overrides, environment, `.env`, file. */
function readSources(
  options: LoadConfigOptions,
  cwd: string,
  problems: ConfigProblem[],
): (key: ConfigKey) => string | undefined {
  const env = options.env ?? process.env;
  const dotenv = readDotEnv(cwd, problems);
  const merged: Record<string, string | undefined> = { ...dotenv, ...env };
  const fileName = options.file ?? merged.POSTERN_CONFIG_FILE;
  const fromFile = fileName ? readConfigFile(path.resolve(cwd, fileName), problems) : {};
  return (key) => {
    const override = options.overrides?.[key];
    if (override !== undefined) return override;
    const fromEnv = merged[KEYS[key].env];
    if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
    return fromFile[key];
  };
}

function finish(values: Partial<Record<ConfigKey, unknown>>, cwd: string): Config {
  const text = (key: ConfigKey): string => String(values[key]);
  const flag = (key: ConfigKey): boolean | 'auto' => {
    const value = text(key);
    if (value === 'auto') return 'auto';
    return value === 'true' || value === '1' || value === 'yes';
  };
  const publicUrl = text('publicUrl');
  const cookieSecure = flag('cookieSecure');
  const databaseUrl = text('databaseUrl');
  return {
    dataDir: text('dataDir'),
    host: text('host'),
    port: Number(values.port),
    publicUrl,
    databaseUrl: databaseUrl.startsWith('sqlite:')
      ? `sqlite:${path.resolve(cwd, databaseUrl.slice('sqlite:'.length))}`
      : databaseUrl,
    nodeMailboxCap: Number(values.nodeMailboxCap),
    mailboxLeaseSeconds: Number(values.mailboxLeaseSeconds),
    logDir: path.resolve(cwd, text('logDir')),
    logLevel: values.logLevel as Config['logLevel'],
    logConsole: flag('logConsole'),
    secretKey: values.secretKey === undefined ? undefined : text('secretKey'),
    secretKeyFile: path.resolve(cwd, text('secretKeyFile')),
    roles: Object.freeze([...(values.roles as Config['roles'])]),
    cookieSecure: cookieSecure === 'auto' ? publicUrl.startsWith('https://') : cookieSecure,
    trustProxy: Object.freeze([...(values.trustProxy as Config['trustProxy'])]),
    webhookAllowedNetworks: Object.freeze([...(values.webhookAllowedNetworks as Config['webhookAllowedNetworks'])]),
    eventRetentionDays: Number(values.eventRetentionDays),
    databaseQueryTimeoutSeconds: Number(values.databaseQueryTimeoutSeconds),
    maxHeapMb: values.maxHeapMb === 'auto' ? 'auto' : Number(values.maxHeapMb),
    tokenRequestsPerSecond: Number(values.tokenRequestsPerSecond),
    metricsListen: text('metricsListen'),
  };
}

function readDotEnv(cwd: string, problems: ConfigProblem[]): Record<string, string> {
  const file = path.join(cwd, '.env');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return {};
  }
  try {
    return parseEnv(text) as Record<string, string>;
  } catch {
    problems.push({ variable: file, expected: 'lines of the form NAME=value' });
    return {};
  }
}

function readConfigFile(file: string, problems: ConfigProblem[]): Partial<Record<ConfigKey, string>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    const reason = error instanceof SyntaxError ? 'valid JSON' : 'a readable file';
    problems.push({ variable: `config file ${file}`, expected: reason });
    return {};
  }
  const result = CONFIG_FILE_SCHEMA.safeParse(parsed);
  if (!result.success) {
    problems.push({
      variable: `config file ${file}`,
      expected: 'a JSON object of keys to strings, numbers or booleans',
    });
    return {};
  }
  const byEnv = new Map<string, ConfigKey>(Object.entries(KEYS).map(([key, def]) => [def.env, key as ConfigKey]));
  const out: Partial<Record<ConfigKey, string>> = {};
  for (const [name, value] of Object.entries(result.data)) {
    const key = Object.hasOwn(KEYS, name) ? (name as ConfigKey) : byEnv.get(name);
    if (key === undefined) {
      problems.push({ variable: `config file key "${name}"`, expected: `one of ${Object.keys(KEYS).join(', ')}` });
      continue;
    }
    out[key] = String(value);
  }
  return out;
}

function configError(problems: ConfigProblem[]): PosternError {
  const lines = problems.map(
    (p) => `  ${p.variable}: expected ${p.expected}${p.received === undefined ? '' : `, got "${p.received}"`}`,
  );
  return new PosternError('CONFIG_INVALID', {
    message: `The configuration is invalid:\n${lines.join('\n')}`,
    details: { problems },
  });
}

/** The configuration as `postern config show` prints it: secrets replaced by a marker. */
export function describeConfig(
  config: Config,
): Array<{ key: ConfigKey; env: string; value: string; description: string }> {
  return (Object.keys(KEYS) as ConfigKey[]).map((key) => {
    const definition: { env: string; description: string; secret?: boolean } = KEYS[key];
    const value = config[key];
    const shown = definition.secret && value !== undefined ? redactValue(key, String(value)) : formatValue(value);
    return { key, env: definition.env, value: shown, description: definition.description };
  });
}

function redactValue(key: ConfigKey, value: string): string {
  if (key === 'databaseUrl') return value.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:[redacted]@');
  return '[redacted]';
}

function formatValue(value: unknown): string {
  if (value === undefined) return '(unset)';
  if (Array.isArray(value)) return value.join(',');
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- config values are strings, numbers and booleans
  return String(value);
}
