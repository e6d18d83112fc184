import { describe, expect, it } from 'vitest';
import { normalizeSubject } from '../../src/domain/subject.js';
import { parseMessage } from '../../src/mail/mime/parse-message.js';
import {
  FieldProblems,
  MAX_SUBJECT_LENGTH,
  replySubject,
  subjectWithToken,
} from '../../src/services/outbound/outgoing-draft.js';
import { assertLinear, measureGrowth } from '../helpers/linear-time.js';

/**
 * Issue 13, High: a subject of `RE` + 60,000 spaces + `x` froze the server for seconds while it was
 * ingested and on every reply — the Re:/Fwd: prefix pattern `\s*(?:count)?\s*` backtracked
 * catastrophically (40k spaces 1.9 s, 80k 12.8 s) — and the whole subject was stored and reused.
 */
const ATTACK = `RE${' '.repeat(60_000)}x`;

describe('subject prefix backtracking', () => {
  it('normalizes the attack subject of the issue in a single pass', () => {
    // The old pattern took seconds here; the bound on its growth is the linear-time test below
    // (a wall-clock limit would fail on a busy machine and prove nothing on a fast one).
    expect(normalizeSubject(ATTACK)).toBe('RE x');
  });

  it.each([
    ['spaces after a prefix word', (n: number) => `RE${' '.repeat(n)}x`],
    ['spaces after a counted prefix', (n: number) => `Re[2]${' '.repeat(n)}x`],
    ['spaces before anything', (n: number) => `${' '.repeat(n)}x`],
    ['a prefix repeated', (n: number) => `${'Re: '.repeat(n / 4)}x`],
    ['prefix words without colons', (n: number) => `${'re '.repeat(n / 3)}x`],
    ['mixed whitespace and counts', (n: number) => `${'Fwd (12)\t \u00a0'.repeat(n / 12)}`],
  ])('stays linear on %s', async (_, build) => {
    assertLinear('normalizeSubject', await measureGrowth(build, (subject) => normalizeSubject(subject)));
  });

  it('strips every prefix, however many', () => {
    expect(normalizeSubject(`${'Re: AW: '.repeat(1_000)}Order 42`)).toBe('Order 42');
  });
});

describe('subject length', () => {
  it('stores at most 998 characters of a received subject; the raw keeps it whole', async () => {
    const subject = `Order ${'é'.repeat(400_000)}`;
    const raw = Buffer.from(`From: a@example.org\r\nSubject: ${subject}\r\nMessage-ID: <long@x>\r\n\r\nbody\r\n`);
    const parsed = await parseMessage(raw);
    expect(parsed.subject).toBe(subject.slice(0, 998));
  });

  it('answers the attack subject with a default reply subject Exchange accepts', () => {
    const token = '#P123456-7KQX';
    const subject = replySubject(`Re: ${'word '.repeat(2_000)}`, 'fallback', token);
    expect([...subject].length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
    expect(subject).toMatch(/^Re: word word .*…\s\[#P123456-7KQX\]$/);
    const problems = new FieldProblems();
    subjectWithToken(subject, token, problems);
    expect(problems.list).toEqual([]);
    expect(replySubject(ATTACK, 'fallback', token)).toBe('Re: RE x [#P123456-7KQX]');
  });
});
