/**
 * Limit/offset pages with the total, the shape every list endpoint returns, and the LIKE pattern
 * that searches use.
 */
import { sql, type RawBuilder } from 'kysely';
import { LIMITS } from '../config/limits.js';

/** What a caller asks for. */
export interface PageRequest {
  readonly limit?: number | undefined;
  readonly offset?: number | undefined;
}

/** A page of items and the total number of matches. */
export interface Page<T> {
  readonly items: T[];
  readonly total: number;
  readonly limit: number;
  readonly offset: number;
}

/**
 * A page size within bounds: the default when none is asked, at most `max` (the API's limit,
 * `LIMITS.pageSizeMax`, unless a collection has its own).
 */
export function clampPageSize(limit: number | undefined, max: number = LIMITS.pageSizeMax): number {
  return Math.min(Math.max(Math.trunc(limit ?? LIMITS.pageSizeDefault), 1), max);
}

/** The request with defaults applied and bounds enforced. */
export function normalizePage(request: PageRequest = {}): { limit: number; offset: number } {
  const offset = Math.max(Math.trunc(request.offset ?? 0), 0);
  return { limit: clampPageSize(request.limit), offset };
}

/**
 * A LIKE operand matching values that contain `text` lower-cased, wildcards in `text` escaped.
 * Compare it with `lower(column)`: SQLite's LIKE ignores ASCII case, PostgreSQL's does not.
 * The ESCAPE clause is explicit because SQLite has no default escape character.
 */
export function containsLowercase(text: string): RawBuilder<string> {
  const escaped = text.toLowerCase().replace(/[\\%_]/g, (char) => `\\${char}`);
  return sql<string>`${`%${escaped}%`} escape '\\'`;
}
