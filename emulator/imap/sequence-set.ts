/**
 * Sequence sets (`1:3,7,10:*`) for message sequence numbers and UIDs.
 *
 * @see https://www.rfc-editor.org/rfc/rfc3501#section-9 (sequence-set)
 * @see https://www.rfc-editor.org/rfc/rfc3501#section-6.4.8 (`*` and ranges in UID commands)
 */

/** `*` is kept as `Infinity` until resolved against a mailbox. */
export interface SequenceRange {
  readonly from: number;
  readonly to: number;
}

const SET = /^(\d+|\*)(:(\d+|\*))?(,(\d+|\*)(:(\d+|\*))?)*$/;

/** Parses a sequence set; undefined when it is not one (zero is not a valid number). */
export function parseSequenceSet(text: string): SequenceRange[] | undefined {
  if (!SET.test(text)) return undefined;
  const ranges: SequenceRange[] = [];
  for (const part of text.split(',')) {
    const [a = '', b] = part.split(':');
    const from = a === '*' ? Infinity : Number(a);
    const to = b === undefined ? from : b === '*' ? Infinity : Number(b);
    if (
      from === 0 ||
      to === 0 ||
      !Number.isSafeInteger(from === Infinity ? 0 : from) ||
      !Number.isSafeInteger(to === Infinity ? 0 : to)
    ) {
      return undefined;
    }
    ranges.push({ from: Math.min(from, to), to: Math.max(from, to) });
  }
  return ranges;
}

/** Whether `value` is in the set, `*` standing for `max` (the largest UID or the message count). */
export function inSequenceSet(ranges: readonly SequenceRange[], value: number, max: number): boolean {
  for (const range of ranges) {
    const from = range.from === Infinity ? max : range.from;
    const to = range.to === Infinity ? max : range.to;
    if (value >= Math.min(from, to) && value <= Math.max(from, to)) return true;
  }
  return false;
}

/** Compresses ascending numbers into a set, as COPYUID and SEARCH-free replies write them. */
export function formatSequenceSet(values: readonly number[]): string {
  const parts: string[] = [];
  let start: number | undefined;
  let previous: number | undefined;
  for (const value of values) {
    if (start !== undefined && previous !== undefined && value === previous + 1) {
      previous = value;
      continue;
    }
    if (start !== undefined && previous !== undefined)
      parts.push(start === previous ? `${start}` : `${start}:${previous}`);
    start = value;
    previous = value;
  }
  if (start !== undefined && previous !== undefined)
    parts.push(start === previous ? `${start}` : `${start}:${previous}`);
  return parts.join(',');
}
