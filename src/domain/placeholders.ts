/**
 * Placeholders in canned answers and signatures: `{{contact.name}}`, `{{contact.firstName}}`,
 * `{{agent.name}}`, `{{account.name}}` and `{{conversation.reference}}`, spaces allowed inside the
 * braces (`{{ agent.name }}`). A placeholder Postern does not know is left exactly as typed, so a
 * typo shows in the reply instead of vanishing; the management form names it beforehand.
 *
 * The text is an agent's or an administrator's, up to tens of thousands of characters: it is read
 * by one scan from left to right, looking at most {@link MAX_PLACEHOLDER_CHARS} characters past each
 * `{{` — linear in the text's length, with no regular expression that could backtrack.
 */

/** Longest signature (an account's or a user's), in characters. */
export const SIGNATURE_MAX_CHARS = 2_000;
/** Longest canned answer title and body, in characters. */
export const CANNED_TITLE_MAX_CHARS = 200;
export const CANNED_BODY_MAX_CHARS = 20_000;
/** Most canned answers per user, and most shared ones. */
export const CANNED_ANSWERS_MAX = 500;

/**
 * A signature as stored: line ends as `\n`, no blank lines or spaces around it; null when nothing
 * is left (no signature).
 */
export function normalizeSignature(text: string | null): string | null {
  if (text === null) return null;
  const trimmed = text.replace(/\r\n?/g, '\n').trim();
  return trimmed === '' ? null : trimmed;
}

/** The placeholders Postern fills, in the order the console lists them. */
export const PLACEHOLDER_NAMES = [
  'contact.name',
  'contact.firstName',
  'agent.name',
  'account.name',
  'conversation.reference',
] as const;

export type PlaceholderName = (typeof PLACEHOLDER_NAMES)[number];

/** What the placeholders stand for in one conversation. */
export type PlaceholderValues = Readonly<Record<PlaceholderName, string>>;

/** Longest text between `{{` and `}}` read as a placeholder (spaces included); longer is plain text. */
export const MAX_PLACEHOLDER_CHARS = 64;

const KNOWN: ReadonlySet<string> = new Set(PLACEHOLDER_NAMES);

/** One `{{…}}` found in a text: where it starts and ends (exclusive), and the trimmed name inside. */
interface Found {
  readonly start: number;
  readonly end: number;
  readonly name: string;
}

/** Calls `each` for every `{{name}}` in the text, left to right, without overlaps. */
function scan(text: string, each: (found: Found) => void): void {
  let from = 0;
  for (;;) {
    const start = text.indexOf('{{', from);
    if (start < 0) return;
    // Only a window after the braces is searched: each `{{` costs at most that much.
    const ahead = text.slice(start + 2, start + 2 + MAX_PLACEHOLDER_CHARS + 2);
    const offset = ahead.indexOf('}}');
    if (offset < 0) {
      // Too long or never closed: plain text; the scan goes on after these braces, never back.
      from = start + 2;
      continue;
    }
    const close = start + 2 + offset;
    const inner = text.slice(start + 2, close);
    if (inner.includes('{{')) {
      // `{{ {{agent.name}}`: the inner pair opens the placeholder.
      from = start + 2 + inner.indexOf('{{');
      continue;
    }
    each({ start, end: close + 2, name: inner.trim() });
    from = close + 2;
  }
}

/**
 * The text with every known placeholder replaced by its value; unknown ones stay as typed.
 * @see https://handlebarsjs.com/guide/expressions.html (the `{{…}}` look, not its language)
 */
export function expandPlaceholders(text: string, values: PlaceholderValues): string {
  let out = '';
  let copied = 0;
  scan(text, ({ start, end, name }) => {
    if (!KNOWN.has(name)) return;
    out += text.slice(copied, start) + values[name as PlaceholderName];
    copied = end;
  });
  return out + text.slice(copied);
}

/** The distinct unknown placeholders of a text, as typed between the braces (trimmed), in order. */
export function unknownPlaceholders(text: string): string[] {
  const unknown: string[] = [];
  scan(text, ({ name }) => {
    if (name !== '' && !KNOWN.has(name) && !unknown.includes(name)) unknown.push(name);
  });
  return unknown;
}

/**
 * The placeholders' values for a conversation. A contact without a name is called by its address;
 * the first name is the name's first word (the whole name or address when there is no space).
 */
export function placeholderValues(context: {
  readonly contactName: string | null;
  readonly contactAddress: string | null;
  readonly agentName: string;
  readonly accountName: string;
  readonly reference: string | null;
}): PlaceholderValues {
  const name = context.contactName?.trim() || context.contactAddress?.trim() || '';
  const space = name.indexOf(' ');
  const isAddress = name.includes('@');
  return {
    'contact.name': name,
    'contact.firstName': space > 0 && !isAddress ? name.slice(0, space) : name,
    'agent.name': context.agentName,
    'account.name': context.accountName,
    'conversation.reference': context.reference ?? '',
  };
}
