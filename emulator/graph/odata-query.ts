/**
 * The OData query options the emulated Graph mail API understands, parsed and checked as Graph
 * checks them for message collections: `$top` (1–1000, default 10), `$skip`, `$select`,
 * `$filter` (comparisons on receivedDateTime / sentDateTime, `isRead eq true|false`, joined with
 * `and`), `$orderby` (receivedDateTime / sentDateTime, asc or desc) with the InefficientFilter
 * rule, `$count` and `$expand=attachments`. Delta takes a narrower set: `$filter` only
 * `receivedDateTime ge|gt`, `$orderby` only `receivedDateTime desc`.
 *
 * @see https://learn.microsoft.com/graph/api/user-list-messages ("Using filter and orderby in the same query")
 * @see https://learn.microsoft.com/graph/api/message-delta (OData query parameters)
 * @see https://learn.microsoft.com/graph/query-parameters
 */
import { z } from 'zod';
import { graphErrors } from './graph-errors.js';
import { canonicalProperty, type MessageProperty } from './message-properties.js';

/** Properties the emulator can filter and sort on. */
export type QueryProperty = 'receivedDateTime' | 'sentDateTime' | 'isRead';
/** The comparison operators `$filter` takes. */
const COMPARISON_OPERATORS = ['eq', 'ne', 'ge', 'gt', 'le', 'lt'] as const;
export type ComparisonOperator = (typeof COMPARISON_OPERATORS)[number];

/** One `prop op value` term of `$filter`. */
export type FilterTerm =
  | {
      readonly property: 'receivedDateTime' | 'sentDateTime';
      readonly operator: ComparisonOperator;
      readonly value: Date;
    }
  | { readonly property: 'isRead'; readonly operator: 'eq' | 'ne'; readonly value: boolean };

/** One `$orderby` term. */
export interface OrderTerm {
  readonly property: 'receivedDateTime' | 'sentDateTime';
  readonly descending: boolean;
}

/** A message-collection query, validated. */
export interface MessageQuery {
  readonly top: number;
  readonly skip: number;
  /** Canonical property names; undefined = the default set. */
  readonly select: readonly MessageProperty[] | undefined;
  readonly filter: readonly FilterTerm[];
  readonly orderBy: readonly OrderTerm[];
  readonly count: boolean;
  readonly expandAttachments: boolean;
}

/** Graph's default page of messages, and the largest `$top`. @see https://learn.microsoft.com/graph/api/user-list-messages */
export const DEFAULT_PAGE_SIZE = 10;
const MAX_PAGE_SIZE = 1000;

const OPERATOR_NAMES: Record<ComparisonOperator, string> = {
  eq: 'Equal',
  ne: 'NotEqual',
  ge: 'GreaterThanOrEqual',
  gt: 'GreaterThan',
  le: 'LessThanOrEqual',
  lt: 'LessThan',
};

const KNOWN_OPTIONS = new Set([
  '$top',
  '$skip',
  '$select',
  '$filter',
  '$orderby',
  '$count',
  '$expand',
  '$search',
  '$skiptoken',
  '$deltatoken',
  'changetype',
]);

const integer = (name: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, { message: `The value of ${name} must be an integer between ${min} and ${max}.` })
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(min, { message: `The value of ${name} must be an integer between ${min} and ${max}.` })
        .max(max, { message: `The value of ${name} must be an integer between ${min} and ${max}.` }),
    );

const rawQuerySchema = z.object({
  $top: integer('$top', 1, MAX_PAGE_SIZE).optional(),
  $skip: integer('$skip', 0, 999_999_999).optional(),
  $select: z.string().optional(),
  $filter: z.string().optional(),
  $orderby: z.string().optional(),
  $count: z.enum(['true', 'false']).optional(),
  $expand: z.string().optional(),
  $search: z.string().optional(),
});

/** `$top`, `$skip` and `$filter` of collections other than messages (folders). */
export const pagingSchema = z.object({
  $top: integer('$top', 1, MAX_PAGE_SIZE).optional(),
  $skip: integer('$skip', 0, 999_999_999).optional(),
  $filter: z.string().optional(),
});

/**
 * Reads the query string into one value per option, refusing repeated options as Graph does.
 * Option names compare case-insensitively (`$TOP` is `$top`).
 */
export function queryOptions(search: URLSearchParams): Map<string, string> {
  const out = new Map<string, string>();
  for (const [rawName, value] of search) {
    const name = rawName.toLowerCase();
    if (!name.startsWith('$') && !KNOWN_OPTIONS.has(name)) continue;
    if (out.has(name)) throw graphErrors.duplicateOption(rawName);
    out.set(name, value);
  }
  return out;
}

function validated(options: Map<string, string>): z.infer<typeof rawQuerySchema> {
  for (const name of options.keys()) {
    if (name.startsWith('$') && !KNOWN_OPTIONS.has(name))
      throw graphErrors.invalidQuery(`The query option '${name}' is not supported.`);
  }
  const result = rawQuerySchema.safeParse(Object.fromEntries(options));
  if (!result.success) throw graphErrors.invalidQuery(result.error.issues[0]?.message ?? 'Invalid query.');
  return result.data;
}

/** Parses `$select`: canonical names; an unknown one is Graph's RequestBroker--ParseUri error. */
function parseSelect(raw: string | undefined): MessageProperty[] | undefined {
  if (raw === undefined) return undefined;
  const names: MessageProperty[] = [];
  for (const item of raw.split(',').map((s) => s.trim())) {
    if (item === '') continue;
    const name = canonicalProperty(item);
    if (name === undefined) throw graphErrors.unknownProperty(item);
    if (!names.includes(name)) names.push(name);
  }
  return names;
}

const TERM = /^([a-z/]+)\s+(eq|ne|ge|gt|le|lt)\s+(\S.*)$/i;
const DATE_LITERAL = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2}))?$/;

function operatorOf(raw: string): ComparisonOperator {
  const lower = raw.toLowerCase();
  const found = COMPARISON_OPERATORS.find((o) => o === lower);
  if (found === undefined) throw graphErrors.invalidQuery(`Unknown operator '${raw}'.`);
  return found;
}

function parseTerm(text: string): FilterTerm {
  const match = TERM.exec(text.trim());
  if (match === null) throw graphErrors.invalidQuery(`Invalid filter clause: ${text.trim()}`);
  const [, rawProperty = '', rawOperator = '', rawValue = ''] = match;
  const [head = ''] = rawProperty.split('/');
  const property = canonicalProperty(head);
  if (property === undefined) throw graphErrors.unknownProperty(head);
  if (head !== rawProperty) throw graphErrors.invalidQuery(`The emulator cannot filter on '${rawProperty}'.`);
  const operator = operatorOf(rawOperator);
  const value = rawValue.trim();
  if (property === 'receivedDateTime' || property === 'sentDateTime') {
    if (/^'.*'$/.test(value)) throw graphErrors.incompatibleTypes(OPERATOR_NAMES[operator]);
    const date = DATE_LITERAL.test(value) ? new Date(value) : undefined;
    if (date === undefined || Number.isNaN(date.getTime()))
      throw graphErrors.invalidQuery(`The DateTimeOffset text '${value}' is not valid.`);
    return { property, operator, value: date };
  }
  if (property === 'isRead') {
    if (operator !== 'eq' && operator !== 'ne')
      throw graphErrors.invalidQuery(`The operator '${operator}' cannot be applied to isRead.`);
    if (value !== 'true' && value !== 'false') throw graphErrors.invalidQuery(`The value '${value}' is not a Boolean.`);
    return { property, operator, value: value === 'true' };
  }
  throw graphErrors.invalidQuery(`The emulator cannot filter on '${property}'.`);
}

/** Parses `$filter`: terms joined by `and` (case-insensitive), no parentheses or `or`. */
export function parseFilter(raw: string | undefined): FilterTerm[] {
  if (raw === undefined || raw.trim() === '') return [];
  if (/[()]/.test(raw) || /\sor\s/i.test(raw))
    throw graphErrors.invalidQuery(`The emulator supports only 'and' of simple comparisons in $filter: ${raw}`);
  return raw.split(/(?<!\s)\s+and\s+/i).map(parseTerm);
}

/** Parses `$orderby`: `prop [asc|desc]`, comma-separated. */
export function parseOrderBy(raw: string | undefined): OrderTerm[] {
  if (raw === undefined || raw.trim() === '') return [];
  return raw.split(',').map((item) => {
    const [rawProperty = '', direction, extra] = item.trim().split(/\s+/);
    const property = canonicalProperty(rawProperty);
    if (property === undefined) throw graphErrors.unknownProperty(rawProperty);
    if (extra !== undefined || (direction !== undefined && !/^(asc|desc)$/i.test(direction)))
      throw graphErrors.invalidQuery(`Invalid $orderby clause: ${item.trim()}`);
    if (property !== 'receivedDateTime' && property !== 'sentDateTime')
      throw graphErrors.invalidQuery(`The emulator cannot sort on '${property}'.`);
    return { property, descending: direction?.toLowerCase() === 'desc' };
  });
}

/**
 * Graph's rule for `$filter` with `$orderby` on messages: every `$orderby` property also appears
 * in `$filter`, in the same order, before any property that is not ordered on.
 */
export function checkOrderAgainstFilter(filter: readonly FilterTerm[], orderBy: readonly OrderTerm[]): void {
  if (filter.length === 0 || orderBy.length === 0) return;
  const filtered: string[] = [];
  for (const term of filter) if (!filtered.includes(term.property)) filtered.push(term.property);
  orderBy.forEach((term, index) => {
    if (filtered[index] !== term.property) throw graphErrors.inefficientFilter();
  });
}

function parseExpand(raw: string | undefined): boolean {
  if (raw === undefined || raw.trim() === '') return false;
  if (raw.trim().toLowerCase() !== 'attachments')
    throw graphErrors.invalidQuery(`The emulator can expand only 'attachments', not '${raw}'.`);
  return true;
}

/** Parses and checks the query of `GET …/messages`. */
export function parseMessageQuery(search: URLSearchParams): MessageQuery {
  const raw = validated(queryOptions(search));
  if (raw.$search !== undefined) throw graphErrors.invalidQuery('The emulator does not support $search.');
  const filter = parseFilter(raw.$filter);
  const orderBy = parseOrderBy(raw.$orderby);
  checkOrderAgainstFilter(filter, orderBy);
  return {
    top: raw.$top ?? DEFAULT_PAGE_SIZE,
    skip: raw.$skip ?? 0,
    select: parseSelect(raw.$select),
    filter,
    orderBy,
    count: raw.$count === 'true',
    expandAttachments: parseExpand(raw.$expand),
  };
}

/** A delta query's options (the first request of a round; later pages carry them in the token). */
export interface DeltaQuery {
  readonly select: readonly MessageProperty[] | undefined;
  /** `receivedDateTime ge|gt` only. */
  readonly receivedAfter: { readonly value: Date; readonly inclusive: boolean } | undefined;
  readonly descending: boolean;
  readonly changeType: 'created' | 'updated' | 'deleted' | undefined;
  readonly top: number | undefined;
  readonly expandAttachments: boolean;
}

/** Parses and checks the query of `GET …/messages/delta` (without its state tokens). */
export function parseDeltaQuery(search: URLSearchParams): DeltaQuery {
  const options = queryOptions(search);
  const raw = validated(options);
  if (raw.$search !== undefined) throw graphErrors.invalidQuery('Delta query does not support $search.');
  if (raw.$skip !== undefined) throw graphErrors.invalidQuery('Delta query does not support $skip.');
  const filter = parseFilter(raw.$filter);
  const onlyReceivedAfter = filter.every(
    (t) => t.property === 'receivedDateTime' && (t.operator === 'ge' || t.operator === 'gt'),
  );
  if (!onlyReceivedAfter || filter.length > 1)
    throw graphErrors.invalidQuery('Delta query supports only $filter=receivedDateTime ge|gt {value}.');
  const orderBy = parseOrderBy(raw.$orderby);
  if (orderBy.length > 1 || orderBy.some((o) => o.property !== 'receivedDateTime' || !o.descending)) {
    throw graphErrors.invalidQuery('Delta query supports only $orderby=receivedDateTime desc.');
  }
  const changeType = options.get('changetype');
  if (changeType !== undefined && !['created', 'updated', 'deleted'].includes(changeType)) {
    throw graphErrors.invalidQuery(`changeType must be created, updated or deleted, not '${changeType}'.`);
  }
  const term = filter[0];
  return {
    select: parseSelect(raw.$select),
    receivedAfter:
      term === undefined || term.property !== 'receivedDateTime'
        ? undefined
        : { value: term.value, inclusive: term.operator === 'ge' },
    descending: orderBy.length === 1,
    changeType:
      changeType === 'created' || changeType === 'updated' || changeType === 'deleted' ? changeType : undefined,
    top: raw.$top,
    expandAttachments: parseExpand(raw.$expand),
  };
}

/**
 * Reads `Prefer: odata.maxpagesize=N` (and `outlook.body-content-type="text"`) from the Prefer
 * header(s). Returns what was asked; the caller reports what it applied in `Preference-Applied`.
 */
export function parsePrefer(header: string | string[] | undefined): {
  maxPageSize: number | undefined;
  bodyText: boolean;
} {
  const values = (Array.isArray(header) ? header : header === undefined ? [] : [header]).flatMap((h) => h.split(','));
  let maxPageSize: number | undefined;
  let bodyText = false;
  for (const value of values.map((v) => v.trim())) {
    const size = /^odata\.maxpagesize\s*=\s*(\d{1,9})$/i.exec(value);
    if (size?.[1] !== undefined) maxPageSize = Math.max(1, Math.min(MAX_PAGE_SIZE, Number(size[1])));
    const body = /^outlook\.body-content-type\s*=\s*"?(text|html)"?$/i.exec(value);
    if (body?.[1] !== undefined) bodyText = body[1].toLowerCase() === 'text';
  }
  return { maxPageSize, bodyText };
}
