/**
 * Scanning log files for secrets: known values (the seed's client secrets and passwords, tokens
 * read back from a database, XOAUTH2 strings built from them) and the shapes of credentials that
 * must never appear unredacted whatever their value (JWTs, XOAUTH2 base64, Postern API tokens,
 * webhook secrets, the emulator's refresh tokens, bearer values, token fields).
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/** A known secret and where it came from, for the report. */
export interface KnownSecret {
  readonly label: string;
  readonly value: string;
}

/** One secret found in a log line. */
export interface Leak {
  readonly file: string;
  readonly line: number;
  readonly what: string;
  /** The line around the finding, with the secret itself masked. */
  readonly excerpt: string;
}

/** Credential shapes that redaction must always have replaced. */
const CREDENTIAL_SHAPES: ReadonlyArray<{ readonly what: string; readonly re: RegExp }> = [
  { what: 'a JWT (access or ID token)', re: /eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{10,}/ },
  { what: 'a SASL XOAUTH2 string', re: /dXNlcj1[A-Za-z0-9+/]{16,}/ },
  { what: 'a Postern API token', re: /pst_[A-Za-z0-9_-]{16,}/ },
  { what: 'a webhook secret', re: /whsec_[A-Za-z0-9_-]{16,}/ },
  { what: "an emulator refresh token (Microsoft's shape)", re: /1\.AVEA[A-Za-z0-9_-]{20,}/ },
  { what: 'a bearer credential', re: /Bearer\s+[a-z0-9\-._~+/]{12,}/i },
  {
    what: 'a token or secret field',
    re: /\\?"(?:refresh_token|access_token|id_token|client_secret|refreshToken|accessToken|clientSecret|code_verifier)\\?"\s*:\s*\\?"(?!\[redacted\])[^"\\]{8,}/,
  },
  {
    what: 'a secret in a form body',
    re: /\b(?:client_secret|refresh_token|code_verifier)=(?!\[redacted\])[^&\s"\\]{8,}/,
  },
];

const LOG_FILE = /^email-(combined|error)\.\d{4}-\d{2}-\d{2}\.log$/;

/** The seed's user passwords and app secrets (emulator/seeds/contoso.json). */
export function seedSecrets(
  seedFile = path.resolve(import.meta.dirname, '../../emulator/seeds/contoso.json'),
): KnownSecret[] {
  const seed = z
    .object({
      tenants: z.array(
        z.object({
          users: z.array(z.object({ userPrincipalName: z.string(), password: z.string() })),
          apps: z.array(
            z.object({ displayName: z.string(), secrets: z.array(z.object({ value: z.string() })).optional() }),
          ),
        }),
      ),
    })
    .parse(JSON.parse(fs.readFileSync(seedFile, 'utf8')));
  return seed.tenants.flatMap((tenant) => [
    ...tenant.users.map((user) => ({ label: `the password of ${user.userPrincipalName}`, value: user.password })),
    ...tenant.apps.flatMap((app) =>
      (app.secrets ?? []).map((secret) => ({ label: `a client secret of ${app.displayName}`, value: secret.value })),
    ),
  ]);
}

/** The XOAUTH2 initial response Postern sends for a user and an access token, base64. */
export function xoauth2(user: string, accessToken: string): string {
  return Buffer.from(`user=${user}\x01auth=Bearer ${accessToken}\x01\x01`).toString('base64');
}

/**
 * What to look for of a secret: the value itself, and for long ones also a slice of its middle,
 * so that a truncated or partly masked copy is caught too.
 */
function needles(secret: KnownSecret): string[] {
  const value = secret.value;
  if (value.length < 6) return [];
  if (value.length < 40) return [value];
  const middle = Math.floor(value.length / 2);
  return [value, value.slice(middle - 12, middle + 12)];
}

/** The leaks in one text. */
export function scanText(file: string, text: string, secrets: readonly KnownSecret[]): Leak[] {
  const leaks: Leak[] = [];
  const searches = secrets.flatMap((secret) => needles(secret).map((needle) => ({ what: secret.label, needle })));
  for (const [index, line] of text.split('\n').entries()) {
    for (const { what, needle } of searches) {
      const at = line.indexOf(needle);
      if (at >= 0) leaks.push({ file, line: index + 1, what, excerpt: excerpt(line, at, needle.length) });
    }
    for (const { what, re } of CREDENTIAL_SHAPES) {
      const match = re.exec(line);
      if (match !== null)
        leaks.push({ file, line: index + 1, what, excerpt: excerpt(line, match.index, match[0].length) });
    }
  }
  return leaks;
}

/** The day log files under `root` (any depth), optionally only those written since `since`. */
export function findLogFiles(root: string, since?: Date, depth = 4): string[] {
  const found: string[] = [];
  const walk = (dir: string, level: number): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory() && level < depth) walk(full, level + 1);
      else if (entry.isFile() && LOG_FILE.test(entry.name)) {
        try {
          if (since === undefined || fs.statSync(full).mtimeMs >= since.getTime()) found.push(full);
        } catch {
          // removed meanwhile
        }
      }
    }
  };
  walk(root, 0);
  return found;
}

/** The leaks in every log file given. */
export function scanLogFiles(files: readonly string[], secrets: readonly KnownSecret[]): Leak[] {
  return files.flatMap((file) => {
    try {
      return scanText(file, fs.readFileSync(file, 'utf8'), secrets);
    } catch {
      return [];
    }
  });
}

/** A report a person can act on. */
export function describeLeaks(leaks: readonly Leak[]): string {
  return leaks
    .slice(0, 20)
    .map((leak) => `${leak.what} in ${leak.file}:${leak.line}: ${leak.excerpt}`)
    .join('\n');
}

function excerpt(line: string, at: number, length: number): string {
  const before = line.slice(Math.max(0, at - 100), at);
  const after = line.slice(at + length, at + length + 60);
  return `…${before}<${length} characters>${after}…`;
}
