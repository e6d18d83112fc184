import { CATALOGUE, RETIRED_CODES, type ErrorCode } from './catalogue.js';

/** Renders docs/ERRORS.md from the catalogue; a test checks that the committed file matches. */
export function renderErrorsDoc(): string {
  const lines = [
    '# Error catalogue',
    '',
    'Every error Postern reports carries one of these codes, in API bodies',
    '(`{ "error": { "code", "message", "remedy", "details" } }`), events, logs and the CLI.',
    'Kinds decide behaviour: `transient` is retried with backoff, `permanent` fails the item,',
    "`needs-admin` changes the owner's status, raises an event and waits for a person.",
    '',
    'Generated from `src/errors/catalogue.ts` by `npm run docs:errors`; do not edit by hand.',
    '',
    '| code | HTTP | kind | message | remedy |',
    '|---|---|---|---|---|',
  ];
  for (const code of Object.keys(CATALOGUE).sort() as ErrorCode[]) {
    const entry = CATALOGUE[code];
    lines.push(
      `| \`${code}\` | ${entry.status} | ${entry.kind} | ${cell(entry.message)} | ${cell(entry.remedy ?? '')} |`,
    );
  }
  lines.push('', '## Retired codes', '', 'Never reused for another meaning.', '');
  lines.push(RETIRED_CODES.length === 0 ? '(none yet)' : RETIRED_CODES.map((c) => `- \`${c}\``).join('\n'));
  return `${lines.join('\n')}\n`;
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}
