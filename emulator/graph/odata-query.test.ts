import { describe, expect, it } from 'vitest';
import { GraphError } from './graph-errors.js';
import {
  checkOrderAgainstFilter,
  parseDeltaQuery,
  parseFilter,
  parseMessageQuery,
  parseOrderBy,
  parsePrefer,
} from './odata-query.js';

const q = (query: string): URLSearchParams => new URLSearchParams(query);

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof GraphError) return error.code;
    throw error;
  }
  return undefined;
}

describe('parseMessageQuery', () => {
  it('defaults to 10 newest-first messages with every default property', () => {
    expect(parseMessageQuery(q(''))).toEqual({
      top: 10,
      skip: 0,
      select: undefined,
      filter: [],
      orderBy: [],
      count: false,
      expandAttachments: false,
    });
  });

  it('reads $top, $skip, $select (canonical, case-insensitive), $count and $expand=attachments', () => {
    const query = parseMessageQuery(
      q('$top=50&$skip=20&$select=Subject,from,RECEIVEDDATETIME&$count=true&$expand=attachments'),
    );
    expect(query).toMatchObject({
      top: 50,
      skip: 20,
      select: ['subject', 'from', 'receivedDateTime'],
      count: true,
      expandAttachments: true,
    });
  });

  it('refuses $top outside 1–1000, unknown properties, repeated and unknown options', () => {
    expect(codeOf(() => parseMessageQuery(q('$top=0')))).toBe('ErrorInvalidUrlQuery');
    expect(codeOf(() => parseMessageQuery(q('$top=1001')))).toBe('ErrorInvalidUrlQuery');
    expect(codeOf(() => parseMessageQuery(q('$top=abc')))).toBe('ErrorInvalidUrlQuery');
    expect(codeOf(() => parseMessageQuery(q('$select=subject,nope')))).toBe('RequestBroker--ParseUri');
    expect(codeOf(() => parseMessageQuery(q('$top=1&$TOP=2')))).toBe('BadRequest');
    expect(codeOf(() => parseMessageQuery(q('$apply=x')))).toBe('ErrorInvalidUrlQuery');
    expect(codeOf(() => parseMessageQuery(q('$search="x"')))).toBe('ErrorInvalidUrlQuery');
  });
});

describe('$filter and $orderby', () => {
  it('parses comparisons joined by and', () => {
    expect(parseFilter('receivedDateTime ge 2026-01-01T00:00:00Z and isRead eq false')).toEqual([
      { property: 'receivedDateTime', operator: 'ge', value: new Date('2026-01-01T00:00:00Z') },
      { property: 'isRead', operator: 'eq', value: false },
    ]);
    expect(parseOrderBy('receivedDateTime desc,sentDateTime')).toEqual([
      { property: 'receivedDateTime', descending: true },
      { property: 'sentDateTime', descending: false },
    ]);
  });

  it('refuses a quoted date (incompatible types), bad dates and unsupported shapes', () => {
    expect(codeOf(() => parseFilter("receivedDateTime ge '2026-01-01'"))).toBe('BadRequest');
    expect(codeOf(() => parseFilter('receivedDateTime ge yesterday'))).toBe('ErrorInvalidUrlQuery');
    expect(codeOf(() => parseFilter('isRead gt true'))).toBe('ErrorInvalidUrlQuery');
    expect(codeOf(() => parseFilter('(isRead eq true) or (isRead eq false)'))).toBe('ErrorInvalidUrlQuery');
    expect(codeOf(() => parseFilter('colour eq 1'))).toBe('RequestBroker--ParseUri');
    expect(codeOf(() => parseOrderBy('receivedDateTime sideways'))).toBe('ErrorInvalidUrlQuery');
  });

  it('applies the InefficientFilter rule: ordered properties lead the filter, in order', () => {
    const received = parseFilter('receivedDateTime ge 2026-01-01T00:00:00Z and isRead eq false');
    expect(() => checkOrderAgainstFilter(received, parseOrderBy('receivedDateTime desc'))).not.toThrow();
    expect(
      codeOf(() => checkOrderAgainstFilter(parseFilter('isRead eq false'), parseOrderBy('receivedDateTime desc'))),
    ).toBe('InefficientFilter');
    expect(
      codeOf(() =>
        checkOrderAgainstFilter(
          parseFilter('isRead eq false and receivedDateTime ge 2026-01-01'),
          parseOrderBy('receivedDateTime'),
        ),
      ),
    ).toBe('InefficientFilter');
    expect(() => checkOrderAgainstFilter([], parseOrderBy('receivedDateTime desc'))).not.toThrow();
  });
});

describe('parseDeltaQuery', () => {
  it('takes only receivedDateTime ge|gt and receivedDateTime desc, and changeType', () => {
    expect(
      parseDeltaQuery(
        q('$filter=receivedDateTime gt 2026-01-01T00:00:00Z&$orderby=receivedDateTime desc&changeType=created'),
      ),
    ).toMatchObject({
      receivedAfter: { value: new Date('2026-01-01T00:00:00Z'), inclusive: false },
      descending: true,
      changeType: 'created',
    });
    expect(codeOf(() => parseDeltaQuery(q('$filter=isRead eq false')))).toBe('ErrorInvalidUrlQuery');
    expect(codeOf(() => parseDeltaQuery(q('$orderby=receivedDateTime asc')))).toBe('ErrorInvalidUrlQuery');
    expect(codeOf(() => parseDeltaQuery(q('changeType=moved')))).toBe('ErrorInvalidUrlQuery');
  });
});

describe('parsePrefer', () => {
  it('reads odata.maxpagesize (capped at 1000) and the text body preference', () => {
    expect(parsePrefer('odata.maxpagesize=5')).toEqual({ maxPageSize: 5, bodyText: false });
    expect(parsePrefer(['outlook.body-content-type="text"', 'odata.maxpagesize=5000'])).toEqual({
      maxPageSize: 1000,
      bodyText: true,
    });
    expect(parsePrefer(undefined)).toEqual({ maxPageSize: undefined, bodyText: false });
  });
});
