import { isIP } from 'node:net';
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
  .transform(withoutTrailingSlashes);

const databaseUrl = z
  .string()
  .refine(
    (value) => /^sqlite:.+/.test(value) || /^postgres(ql)?:\/\/.+/.test(value),
    'sqlite:<path> or postgres://user:password@host:port/database',
  );

/** The non-empty items of a comma-separated list, trimmed. */
function commaList(value: string): string[] {
  return value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
}

const roles = z
  .string()
  .transform(commaList)
  .pipe(z.array(z.enum(ROLES, { error: `roles from ${ROLES.join(', ')}` })).min(1, 'at least one role'));

const booleanText = z
  .string()
  .transform((value) => value.trim().toLowerCase())
  .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no', 'auto'], { error: 'true, false or auto' }));

/** An IPv4 or IPv6 address, or a CIDR range of either (`10.0.0.0/8`, `fd00::/8`). */
function isAddressOrRange(value: string): boolean {
  const slash = value.indexOf('/');
  if (slash === -1) return isIP(value) !== 0;
  const version = isIP(value.slice(0, slash));
  const bits = value.slice(slash + 1);
  if (version === 0 || !/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (version === 4 ? 32 : 128);
}

const TRUST_PROXY_EXPECTED =
  'the addresses or CIDR ranges of your proxies, comma-separated (such as 10.0.0.5,10.1.0.0/16), or false; "true" would believe any client\'s X-Forwarded-For';

/** `false` (or empty): no proxy; otherwise the proxies' addresses and ranges. `true` is refused. */
const trustProxy = z
  .string()
  .transform((value) => value.trim())
  .refine((value) => !['true', '1', 'yes'].includes(value.toLowerCase()), TRUST_PROXY_EXPECTED)
  .transform((value) => (['', 'false', '0', 'no'].includes(value.toLowerCase()) ? [] : commaList(value)))
  .pipe(z.array(z.string().refine(isAddressOrRange, TRUST_PROXY_EXPECTED)));

const ALLOWED_NETWORKS_EXPECTED =
  'addresses or CIDR ranges, comma-separated (such as 10.0.0.0/8,127.0.0.1), or empty for none';

/** Networks webhooks may reach although they are not public; empty: public receivers only. */
const webhookAllowedNetworks = z
  .string()
  .transform(commaList)
  .pipe(z.array(z.string().refine(isAddressOrRange, ALLOWED_NETWORKS_EXPECTED)));

const MAX_HEAP_EXPECTED = 'auto, or a whole number of megabytes from 128 to 65536';

/** `auto` or a heap limit in megabytes (see cli/heap-limit.ts for what auto picks). */
const maxHeapMb = z
  .string()
  .transform((value) => value.trim().toLowerCase())
  .refine((value) => value === 'auto' || /^\d{1,5}$/.test(value), MAX_HEAP_EXPECTED)
  .transform((value) => (value === 'auto' ? ('auto' as const) : Number(value)))
  .refine((value) => value === 'auto' || (value >= 128 && value <= 65536), MAX_HEAP_EXPECTED);

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
  databaseQueryTimeoutSeconds: {
    env: 'POSTERN_DATABASE_QUERY_TIMEOUT_SECONDS',
    schema: z.coerce
      .number({ error: 'a number of seconds' })
      .int('a whole number of seconds')
      .min(1, 'at least 1 second')
      .max(3600, 'at most 3600 seconds'),
    description:
      'PostgreSQL: the longest Postern waits for one query before giving up on it, so that a server that stops answering (a restart, a lost network) never holds a request or a worker for ever.',
  },
  nodeMailboxCap: {
    env: 'POSTERN_NODE_MAILBOX_CAP',
    schema: z.coerce
      .number({ error: 'a number of mailboxes' })
      .int('a whole number of mailboxes')
      .min(0, '0 (no cap) or more'),
    description:
      'PostgreSQL with several nodes: the most mailboxes this node reads at once (0: no cap beyond its even share of the accounts).',
  },
  mailboxLeaseSeconds: {
    env: 'POSTERN_MAILBOX_LEASE_SECONDS',
    schema: z.coerce
      .number({ error: 'a number of seconds' })
      .int('a whole number of seconds')
      .min(3, 'at least 3 seconds')
      .max(600, 'at most 600 seconds'),
    description:
      'PostgreSQL with several nodes: how long a node holds a mailbox without renewing it (renewed every third of it); a node that dies loses its mailboxes to the others after this long (20 s by default; a node cut off from the database stops reading after two thirds of it).',
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
    schema: trustProxy,
    description:
      'Reverse proxies whose X-Forwarded-For/-Proto/-Host are believed: addresses or CIDR ranges, comma-separated (10.0.0.5,10.1.0.0/16), or false for none. "true" is refused: it would let any client claim any address.',
  },
  webhookAllowedNetworks: {
    env: 'POSTERN_WEBHOOK_ALLOWED_NETWORKS',
    schema: webhookAllowedNetworks,
    description:
      "Networks webhook receivers may be on although they are not public (loopback, private, link-local…): addresses or CIDR ranges, comma-separated (10.0.0.0/8,127.0.0.1). Empty: public receivers only. Postern's own listener and cloud metadata names are refused regardless.",
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
  maxHeapMb: {
    env: 'POSTERN_MAX_HEAP_MB',
    schema: maxHeapMb,
    description:
      'postern start: the V8 heap limit (old generation) in megabytes, from 128 to 65536, or auto: a quarter of the memory the machine or container has, from 256 to 1024 MB. The process is started again with --max-old-space-size when it was not; an explicit value wins over a --max-old-space-size in NODE_OPTIONS, which auto honours.',
  },
  tokenRequestsPerSecond: {
    env: 'POSTERN_TOKEN_REQUESTS_PER_SECOND',
    schema: z.coerce
      .number({ error: 'a number of requests per second' })
      .min(0.1, 'at least 0.1 requests per second')
      .max(1000, 'at most 1000 requests per second'),
    description:
      "The most token requests this node sends to Microsoft's identity platform in any second (sign-ins, refreshes, client credentials), evenly spaced; sign-ins go first, the token keeper's renewals last. 40 by default: 10,000 grants renewed in under 5 minutes. Each node has its own budget.",
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
    databaseQueryTimeoutSeconds: '120',
    nodeMailboxCap: '0',
    mailboxLeaseSeconds: '20',
    logDir: path.join(resolved.dataDir, 'logs'),
    logLevel: 'info',
    logConsole: 'auto',
    secretKey: '',
    secretKeyFile: path.join(resolved.dataDir, 'secret.key'),
    roles: 'web,worker',
    cookieSecure: 'auto',
    trustProxy: 'false',
    webhookAllowedNetworks: '',
    eventRetentionDays: '90',
    maxHeapMb: 'auto',
    tokenRequestsPerSecond: '40',
    metricsListen: '',
  };
}

export interface Config {
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly publicUrl: string;
  readonly databaseUrl: string;
  /** PostgreSQL: seconds one query may take before the client gives up on it. */
  readonly databaseQueryTimeoutSeconds: number;
  /** The most mailboxes this node reads at once; 0: no cap beyond its even share. */
  readonly nodeMailboxCap: number;
  /** Seconds a mailbox lease lasts without renewal (PostgreSQL). */
  readonly mailboxLeaseSeconds: number;
  readonly logDir: string;
  readonly logLevel: (typeof LOG_LEVELS)[number];
  readonly logConsole: boolean | 'auto';
  readonly secretKey: string | undefined;
  readonly secretKeyFile: string;
  readonly roles: readonly (typeof ROLES)[number][];
  readonly cookieSecure: boolean;
  /** The reverse proxies believed (addresses and CIDR ranges); empty: none. */
  readonly trustProxy: readonly string[];
  /** Addresses and CIDR ranges webhooks may reach although not public; empty: none. */
  readonly webhookAllowedNetworks: readonly string[];
  /** Days events are kept. */
  readonly eventRetentionDays: number;
  /** `postern start`'s V8 heap limit in megabytes, or `auto` (cli/heap-limit.ts). */
  readonly maxHeapMb: number | 'auto';
  /** Token requests per second this node may send to the identity platform. */
  readonly tokenRequestsPerSecond: number;
  /** `host:port` of the separate metrics listener; empty when there is none. */
  readonly metricsListen: string;
}

/** `value` without trailing slashes (a loop: `/\/+$/` rescans a run of slashes from each one). */
function withoutTrailingSlashes(value: string): string {
  let end = value.length;
  while (end > 0 && value.charCodeAt(end - 1) === 0x2f) end -= 1;
  return value.slice(0, end);
}
