/**
 * Parsing and redaction of `POSTERN_DATABASE_URL`. A URL may carry a password: every message that
 * names a database uses `redactDatabaseUrl()`.
 */
import { PosternError } from '../errors/index.js';

/** The two engines Postern runs on. */
export type Engine = 'sqlite' | 'postgres';

/** Where the database is, once the URL is understood. */
export type DatabaseLocation =
  | { readonly engine: 'sqlite'; readonly filename: string }
  | { readonly engine: 'postgres'; readonly connectionString: string };

/**
 * Understands `sqlite:<path>` (also `sqlite:///abs/path` and `sqlite::memory:`) and
 * `postgres://` or `postgresql://` URLs.
 */
export function parseDatabaseUrl(url: string): DatabaseLocation {
  if (url.startsWith('sqlite:')) {
    let filename = url.slice('sqlite:'.length);
    if (filename.startsWith('//')) filename = filename.slice(2);
    if (filename === '') throw invalidUrl(url, 'the SQLite URL names no file');
    return { engine: 'sqlite', filename };
  }
  if (/^postgres(ql)?:\/\//i.test(url)) {
    if (!URL.canParse(url)) throw invalidUrl(url, 'the PostgreSQL URL cannot be parsed');
    return { engine: 'postgres', connectionString: url };
  }
  throw invalidUrl(url, 'it is neither sqlite:<path> nor postgres://…');
}

/**
 * The URL without its password (user names stay: they help diagnosis and are not secret), and
 * without any `password` query parameter. Unparseable URLs are cut after the scheme.
 */
export function redactDatabaseUrl(url: string): string {
  if (url.startsWith('sqlite:')) return url;
  if (!URL.canParse(url)) return `${url.split(':')[0] ?? 'database'}://(unparseable URL)`;
  const parsed = new URL(url);
  if (parsed.password !== '') parsed.password = '***';
  for (const name of [...parsed.searchParams.keys()]) {
    if (/pass|secret|key/i.test(name)) parsed.searchParams.set(name, '***');
  }
  return parsed.toString();
}

/**
 * Removes the password of `url` from any text (an error message from a driver, for instance).
 */
export function scrubPassword(text: string, url: string): string {
  if (!URL.canParse(url)) return text;
  const parsed = new URL(url);
  const secrets = [parsed.password, safeDecode(parsed.password)].filter((s) => s.length > 0);
  return secrets.reduce((acc, secret) => acc.split(secret).join('***'), text.split(url).join(redactDatabaseUrl(url)));
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function invalidUrl(url: string, why: string): PosternError {
  return new PosternError('CONFIG_INVALID', {
    message: `POSTERN_DATABASE_URL ${redactDatabaseUrl(url)} is invalid: ${why}.`,
    remedy: 'Use sqlite:<path> or postgres://user:password@host:port/database.',
  });
}
