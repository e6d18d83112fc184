import { describe, expect, it } from 'vitest';
import { formatDateTime, formatTimestampsIn } from './format.js';

describe('formatTimestampsIn', () => {
  it("writes every ISO timestamp of a text as the console's other dates, leaving the rest", () => {
    const iso = '2026-12-03T06:18:17.000Z';
    const text = `grant 4 (active), last refresh ${iso}, last interactive sign-in 2026-11-30T21:05:00Z`;
    const formatted = formatTimestampsIn(text);
    expect(formatted).toBe(
      `grant 4 (active), last refresh ${formatDateTime(iso)}, last interactive sign-in ${formatDateTime('2026-11-30T21:05:00Z')}`,
    );
    expect(formatted).not.toMatch(/\dT\d/);
  });

  it('leaves dates without a time and texts without dates alone', () => {
    expect(formatTimestampsIn('it expires on 2099-12-31')).toBe('it expires on 2099-12-31');
    expect(formatTimestampsIn('Signed in as andrea@contoso.com.')).toBe('Signed in as andrea@contoso.com.');
  });
});
