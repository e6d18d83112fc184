/**
 * Limit/offset pages with the total, the shape every list endpoint returns, and the LIKE pattern
 * that searches use.
 */
import { sql, type RawBuilder } from 'kysely';

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

/** Default page size. */
export const DEFAULT_PAGE_SIZE = 50;
/** Largest page a repository returns, whatever is asked. */
export const MAX_PAGE_SIZE = 500;

/** The request with defaults applied and bounds enforced. */
export function normalizePage(request: PageRequest = {}): { limit: number; offset: number } {
  const limit = Math.min(Math.max(Math.trunc(request.limit ?? DEFAULT_PAGE_SIZE), 1), MAX_PAGE_SIZE);
  const offset = Math.max(Math.trunc(request.offset ?? 0), 0);
  return { limit, offset };
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
