import path from 'node:path';
import { z } from 'zod';

/**
 * One definition per configuration key: its environment variable, its type, its default and what it
 * means. `secret` keys are redacted by `postern config show` and in logs.
 */
interface KeyDefinition<S extends z.ZodType> {
  readonly env: string;
  readonly schema: S;
  readonly description: string;
  readonly secret?: boolean;
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
const ROLES = ['web', 'worker'] as const;

const logLevel = z
  .string()
  .transform((value) => value.trim().toLowerCase())
  .pipe(z.enum(LOG_LEVELS, { error: `one of ${LOG_LEVELS.join(', ')}` }));

const port = z.coerce
  .number({ error: 'a port number' })
  .int('a whole port number')
  .min(0, 'a port from 0 to 65535')
  .max(65535, 'a port from 0 to 65535');

const absoluteHttpUrl = z
  .string()
  .url('an absolute URL such as https://postern.example.com')
  .refine((value) => /^https?:\/\//i.test(value), 'an http:// or https:// URL')
  .transform((value) => value.replace(/(?<!\/)\/+$/, ''));

const databaseUrl = z
  .string()
  .refine(
    (value) => /^sqlite:.+/.test(value) || /^postgres(ql)?:\/\/.+/.test(value),
    'sqlite:<path> or postgres://user:password@host:port/database',
  );

const roles = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.enum(ROLES, { error: `roles from ${ROLES.join(', ')}` })).min(1, 'at least one role'));

const booleanText = z
  .string()
  .transform((value) => value.trim().toLowerCase())
  .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no', 'auto'], { error: 'true, false or auto' }));

export const KEYS = {
  dataDir: {
    env: 'POSTERN_DATA_DIR',
    schema: z.string().min(1),
    description: 'Directory of the embedded database, the key file and, by default, the logs.',
  },
  host: { env: 'POSTERN_HOST', schema: z.string().min(1), description: 'Address the HTTP server listens on.' },
  port: { env: 'POSTERN_PORT', schema: port, description: 'Port the HTTP server listens on (0 picks a free one).' },
  publicUrl: {
    env: 'POSTERN_PUBLIC_URL',
    schema: absoluteHttpUrl,
    description: 'URL at which users and Microsoft reach Postern; redirect URIs are built from it.',
  },
  databaseUrl: {
    env: 'POSTERN_DATABASE_URL',
    schema: databaseUrl,
    description: 'sqlite:<path> (embedded default) or postgres://… for several nodes.',
    secret: true,
  },
  logDir: {
    env: 'POSTERN_LOG_DIR',
    schema: z.string().min(1),
    description: 'Directory of email-combined.YYYY-MM-DD.log and email-error.YYYY-MM-DD.log.',
  },
  logLevel: {
    env: 'POSTERN_LOG_LEVEL',
    schema: logLevel,
    description: 'Log level: debug, info, warn or error (also trace, fatal, silent).',
  },
  logConsole: {
    env: 'POSTERN_LOG_CONSOLE',
    schema: booleanText,
    description: 'Also write logs to the console: true, false or auto (when not under test).',
  },
  secretKey: {
    env: 'POSTERN_SECRET_KEY',
    schema: z.string().min(1),
    description:
      'Key that encrypts secrets at rest: 32 bytes as hex or base64. When unset, a key file in the data directory is used (created on first start with mode 0600).',
    secret: true,
  },
  secretKeyFile: {
    env: 'POSTERN_SECRET_KEY_FILE',
    schema: z.string().min(1),
    description: 'Path of the key file used when POSTERN_SECRET_KEY is unset.',
  },
  roles: {
    env: 'POSTERN_ROLES',
    schema: roles,
    description: 'Roles this process runs: web, worker, or both (comma-separated).',
  },
  cookieSecure: {
    env: 'POSTERN_COOKIE_SECURE',
    schema: booleanText,
    description: 'Mark session cookies Secure: true, false, or auto (when the public URL is https).',
  },
  trustProxy: {
    env: 'POSTERN_TRUST_PROXY',
    schema: booleanText,
    description: 'Trust X-Forwarded-* headers from a reverse proxy.',
  },
  eventRetentionDays: {
    env: 'POSTERN_EVENT_RETENTION_DAYS',
    schema: z.coerce
      .number({ error: 'a number of days' })
      .int('a whole number of days')
      .min(1, 'at least 1 day')
      .max(3650, 'at most 3650 days'),
    description: 'Days events (the timeline, and their webhook deliveries) are kept.',
  },
  metricsListen: {
    env: 'POSTERN_METRICS_LISTEN',
    schema: z
      .string()
      .trim()
      .regex(/^$|^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'host:port such as 127.0.0.1:9464, or empty'),
    description:
      'Also serve /metrics without a token on this host:port (for a Prometheus on a private network); empty to serve it only on the main port, with an admin token.',
  },
} as const satisfies Record<string, KeyDefinition<z.ZodType>>;

export type ConfigKey = keyof typeof KEYS;

/** Defaults; some depend on other values and are computed after the first pass. */
export function defaultValues(resolved: { dataDir: string; port: number }): Record<ConfigKey, string> {
  return {
    dataDir: resolved.dataDir,
    host: '127.0.0.1',
    port: String(resolved.port),
    publicUrl: `http://localhost:${resolved.port}`,
    databaseUrl: `sqlite:${path.join(resolved.dataDir, 'postern.db')}`,
    logDir: path.join(resolved.dataDir, 'logs'),
    logLevel: 'info',
    logConsole: 'auto',
    secretKey: '',
    secretKeyFile: path.join(resolved.dataDir, 'secret.key'),
    roles: 'web,worker',
    cookieSecure: 'auto',
    trustProxy: 'false',
    eventRetentionDays: '90',
    metricsListen: '',
  };
}

export interface Config {
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly publicUrl: string;
  readonly databaseUrl: string;
  readonly logDir: string;
  readonly logLevel: (typeof LOG_LEVELS)[number];
  readonly logConsole: boolean | 'auto';
  readonly secretKey: string | undefined;
  readonly secretKeyFile: string;
  readonly roles: readonly (typeof ROLES)[number][];
  readonly cookieSecure: boolean;
  readonly trustProxy: boolean;
  /** Days events are kept. */
  readonly eventRetentionDays: number;
  /** `host:port` of the separate metrics listener; empty when there is none. */
  readonly metricsListen: string;
}
