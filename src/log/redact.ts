/**
 * Redaction of secrets in log lines, always on. Two layers: known field names are censored by
 * path (pino's `redact`), and every serialised line is scrubbed by pattern, so that a token
 * hidden inside a message, an error text or a protocol transcript is caught as well.
 */

export const REDACTED = '[redacted]';

/** Field names whose values are never logged, at any depth handled by pino's wildcard paths. */
const SECRET_FIELDS = [
  'password',
  'newPassword',
  'currentPassword',
  'passwordHash',
  'clientSecret',
  'client_secret',
  'privateKey',
  'privateKeyPem',
  'secret',
  'secretKey',
  'refreshToken',
  'refresh_token',
  'accessToken',
  'access_token',
  'idToken',
  'id_token',
  'token',
  'code_verifier',
  'codeVerifier',
  'authorization',
  'cookie',
  'set-cookie',
  'x-csrf-token',
];

/** Paths for pino's `redact` option: top level, one level down, and request/response headers. */
export const REDACT_PATHS: string[] = [
  ...SECRET_FIELDS.map((field) => (field.includes('-') ? `["${field}"]` : field)),
  ...SECRET_FIELDS.map((field) => (field.includes('-') ? `*["${field}"]` : `*.${field}`)),
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
];

interface Pattern {
  readonly re: RegExp;
  readonly replace: string;
}

const PATTERNS: Pattern[] = [
  // Authorization headers and XOAUTH2 payloads in clear: "Bearer <token>"
  { re: /(Bearer\s+)[a-z0-9\-._~+/]+=*/gi, replace: `$1${REDACTED}` },
  // Form-encoded secrets (bodies, query strings): client_secret=..., ?code=... — whole names only,
  // so that `imapCode=` or `errorcode=` stay readable.
  {
    re: /(^|[?&\s,;{(])((?:client_secret|refresh_token|access_token|id_token|code_verifier|[\w-]*password|assertion|client_assertion|code)=)[^&\s"\\]+/gi,
    replace: `$1$2${REDACTED}`,
  },
  // JSON-ish secrets, also inside an escaped JSON string: "refresh_token":"..."
  {
    re: /(\\?"(?:client_secret|refresh_token|access_token|id_token|code_verifier|[\w-]*password|assertion|client_assertion)\\?"\s*:\s*\\?")[^"\\]+/gi,
    replace: `$1${REDACTED}`,
  },
  // An OAuth authorization code in JSON; an error code ("code":"AUTH_SESSIONS_REVOKED", short
  // identifiers) is what diagnosis needs and stays.
  {
    re: /(\\?"code\\?"\s*:\s*\\?")(?![A-Za-z][A-Za-z0-9_]{0,39}\\?")[^"\\]+/g,
    replace: `$1${REDACTED}`,
  },
  // SASL XOAUTH2 initial responses: base64("user=...\x01auth=Bearer ...") always starts with "dXNlcj1"
  { re: /dXNlcj1[A-Za-z0-9+/]+=*/g, replace: REDACTED },
  // JWTs (access and ID tokens) wherever they appear
  { re: /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, replace: REDACTED },
  // Postern API tokens
  { re: /pst_[A-Za-z0-9_-]{16,}/g, replace: REDACTED },
  // Webhook signing secrets
  { re: /whsec_[A-Za-z0-9_-]{16,}/g, replace: REDACTED },
  // One-time Cloud Provider sign-in links (tickets)
  { re: /psi_[A-Za-z0-9_-]{16,}/g, replace: REDACTED },
  // PEM private keys (a Cloud Provider's certificate credential); the body cannot hold '-', so the
  // run stops at the END line without backtracking.
  { re: /-----BEGIN [A-Z ]{0,20}PRIVATE KEY-----[A-Za-z0-9+/=\s\\]*/g, replace: REDACTED },
  // Passwords in connection strings: scheme://user:password@host
  { re: /(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s"]+:)[^@/\s"]+@/gi, replace: `$1${REDACTED}@` },
];

/** Scrubs every known secret pattern out of one serialised log line. */
export function scrubSecrets(line: string): string {
  let out = line;
  for (const { re, replace } of PATTERNS) out = out.replace(re, replace);
  return out;
}
