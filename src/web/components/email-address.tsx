/**
 * An email address that wraps only after its `@` and its dots, never inside a word: a narrow column
 * (the conversation's contact card) shows `ada.lovelace@` / `example.org` rather than `ada.lovel` /
 * `ace@exam…`. A part longer than the column is cut with an ellipsis; the title shows it whole.
 */
import type { JSX } from 'preact';

export function EmailAddress({ address }: { address: string }): JSX.Element {
  return (
    <span class="email-address" title={address}>
      {breakableParts(address).map((part, index) => (
        <span key={index} class="email-address-part">
          {part}
        </span>
      ))}
    </span>
  );
}

/** The address cut after each `@` and `.` (linear, no regex): the places it may wrap. */
export function breakableParts(address: string): string[] {
  const parts: string[] = [];
  let start = 0;
  for (let index = 0; index < address.length; index += 1) {
    const char = address[index];
    if (char === '@' || char === '.') {
      parts.push(address.slice(start, index + 1));
      start = index + 1;
    }
  }
  if (start < address.length) parts.push(address.slice(start));
  return parts;
}
