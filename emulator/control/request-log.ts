/**
 * The redacted request log of the identity endpoints, for tests to assert on — e.g. that 100
 * concurrent callers caused exactly one `refresh_token` request. Secrets (client secrets,
 * codes, refresh tokens, passwords, PKCE verifiers, device codes, assertions) are replaced by
 * `[redacted]`; the Authorization header keeps only its scheme.
 */

/** One logged request. */
export interface RequestLogEntry {
  seq: number;
  /** Emulator-clock time of the request (ISO). */
  at: string;
  method: string;
  path: string;
  /** `token`, `devicecode`, `authorize`, `login`, `discovery`, `jwks`, ... */
  endpoint: string;
  tenant: string | undefined;
  grantType: string | undefined;
  clientId: string | undefined;
  /** Query and form parameters, redacted. */
  params: Record<string, string>;
  /** `Basic [redacted]`, `Bearer [redacted]` or undefined. */
  authorization: string | undefined;
  status: number;
  error: string | undefined;
  aadsts: number | undefined;
  /** The fault applied, if one was. */
  fault: string | undefined;
  durationMs: number;
}

/** Filter of `list()` (and of `GET /_emulator/requests`). */
export interface RequestLogFilter {
  endpoint?: string;
  grantType?: string;
  clientId?: string;
  tenant?: string;
  sinceSeq?: number;
}

const SECRET_PARAMS = new Set([
  'client_secret',
  'code',
  'refresh_token',
  'password',
  'passwd',
  'code_verifier',
  'device_code',
  'client_assertion',
  'assertion',
  'access_token',
  'id_token',
  'otc',
  'token',
]);

/** Redacts secret parameters. */
export function redactParams(params: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) out[k] = SECRET_PARAMS.has(k.toLowerCase()) ? '[redacted]' : v;
  return out;
}

/** Keeps only the scheme of an Authorization header. */
export function redactAuthorization(header: string | undefined): string | undefined {
  if (header === undefined || header.length === 0) return undefined;
  const scheme = header.split(' ')[0] ?? '';
  return `${scheme} [redacted]`;
}

/** A bounded in-memory log (oldest entries dropped beyond `capacity`). */
export class RequestLog {
  #entries: RequestLogEntry[] = [];
  #seq = 0;
  readonly capacity: number;

  constructor(capacity = 10_000) {
    this.capacity = capacity;
  }

  /** Appends an entry (its `seq` is assigned here). */
  record(entry: Omit<RequestLogEntry, 'seq'>): RequestLogEntry {
    this.#seq += 1;
    const full = { ...entry, seq: this.#seq };
    this.#entries.push(full);
    if (this.#entries.length > this.capacity) this.#entries.splice(0, this.#entries.length - this.capacity);
    return full;
  }

  /** Entries matching the filter, oldest first. */
  list(filter: RequestLogFilter = {}): RequestLogEntry[] {
    return this.#entries.filter(
      (e) =>
        (filter.endpoint === undefined || e.endpoint === filter.endpoint) &&
        (filter.grantType === undefined || e.grantType === filter.grantType) &&
        (filter.clientId === undefined || e.clientId === filter.clientId.toLowerCase()) &&
        (filter.tenant === undefined || e.tenant?.toLowerCase() === filter.tenant.toLowerCase()) &&
        (filter.sinceSeq === undefined || e.seq > filter.sinceSeq),
    );
  }

  /** The sequence number of the latest entry (0 when empty): remember it, then filter with `sinceSeq`. */
  get lastSeq(): number {
    return this.#seq;
  }

  /** Empties the log; returns how many entries were dropped. */
  clear(): number {
    const n = this.#entries.length;
    this.#entries = [];
    return n;
  }
}
