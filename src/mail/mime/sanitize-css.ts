/**
 * The `style` attributes of inbound mail, reduced to formatting that can load nothing and run
 * nothing. An allowlist, not a blocklist: a declaration stays only when its property is one of
 * {@link STYLE_PROPERTIES} and every token of its value is one this grammar knows:
 *
 * - identifiers (`bold`, `solid`, `Arial`), numbers with a unit or `%`, hash colours, commas,
 *   slashes and `!important`;
 * - strings, only in `font-family` and `font` (the one place formatting needs them);
 * - the functions `rgb`, `rgba`, `hsl`, `hsla` and `calc` (and, inside them, `+ - *`), nested at
 *   most {@link MAX_DEPTH} deep.
 *
 * Everything else drops the whole declaration: any other function (`url`, `image-set`,
 * `-webkit-image-set`, `image`, `cross-fade`, `element`, `paint`, `src`, `expression`, `var` …),
 * a bare parenthesis, a backslash (a CSS escape such as `\75 rl(` could spell any of those), `@`,
 * braces, brackets, control characters, unterminated strings. Comments separate tokens as spaces.
 *
 * The result is not the input filtered but the accepted tokens written out again, so what the
 * browser parses is exactly what was checked. One linear scan, no regular expressions.
 *
 * @see https://www.w3.org/TR/css-syntax-3/#tokenization
 * @see https://www.w3.org/TR/css-images-4/ (image-set, image, cross-fade, element: why functions are refused)
 */

/** Properties that only format: none of them takes an image or any other resource in this grammar. */
const STYLE_PROPERTIES: ReadonlySet<string> = new Set([
  'color',
  'background',
  'background-color',
  'background-position',
  'background-repeat',
  'opacity',
  'font',
  'font-family',
  'font-size',
  'font-style',
  'font-weight',
  'font-variant',
  'font-stretch',
  'text-align',
  'text-decoration',
  'text-decoration-line',
  'text-decoration-color',
  'text-decoration-style',
  'text-indent',
  'text-transform',
  'text-overflow',
  'text-shadow',
  'line-height',
  'letter-spacing',
  'word-spacing',
  'white-space',
  'word-break',
  'word-wrap',
  'overflow-wrap',
  'vertical-align',
  'direction',
  'display',
  'visibility',
  'overflow',
  'overflow-x',
  'overflow-y',
  'box-sizing',
  'box-shadow',
  'margin',
  'margin-top',
  'margin-right',
  'margin-bottom',
  'margin-left',
  'padding',
  'padding-top',
  'padding-right',
  'padding-bottom',
  'padding-left',
  'border',
  'border-top',
  'border-right',
  'border-bottom',
  'border-left',
  'border-color',
  'border-style',
  'border-width',
  'border-top-color',
  'border-right-color',
  'border-bottom-color',
  'border-left-color',
  'border-top-style',
  'border-right-style',
  'border-bottom-style',
  'border-left-style',
  'border-top-width',
  'border-right-width',
  'border-bottom-width',
  'border-left-width',
  'border-radius',
  'border-top-left-radius',
  'border-top-right-radius',
  'border-bottom-right-radius',
  'border-bottom-left-radius',
  'border-collapse',
  'border-spacing',
  'width',
  'height',
  'max-width',
  'min-width',
  'max-height',
  'min-height',
  'float',
  'clear',
  'table-layout',
  'caption-side',
  'empty-cells',
  'list-style-type',
  'list-style-position',
]);

/** Properties whose values may hold strings (font family names). */
const STRING_PROPERTIES: ReadonlySet<string> = new Set(['font', 'font-family']);

/** Functions that compute a colour or a length from their arguments and load nothing. */
const FUNCTIONS: ReadonlySet<string> = new Set(['rgb', 'rgba', 'hsl', 'hsla', 'calc']);

/** How deep functions may nest (`calc(calc(…))`). */
const MAX_DEPTH = 4;

type TokenKind =
  | 'ident'
  | 'function'
  | 'number'
  | 'hash'
  | 'string'
  | 'space'
  | 'colon'
  | 'semicolon'
  | 'comma'
  | 'slash'
  | 'bang'
  | 'operator'
  | 'close'
  /** A function this grammar refuses: its parentheses still count where a declaration ends. */
  | 'refused-function'
  | 'bad';

interface Token {
  readonly kind: TokenKind;
  /** The token as written back: identifiers as given, function names lower-case with their `(`. */
  readonly text: string;
}

/**
 * The declarations of a `style` attribute that pass the allowlist, written as `name:value` joined
 * by `;` (`''` when none does).
 */
export function sanitizeStyle(style: string): string {
  const kept: string[] = [];
  let declaration = new DeclarationCheck();
  let depth = 0;
  for (const token of tokenize(style)) {
    if (token.kind === 'semicolon' && depth === 0) {
      const clean = declaration.finish();
      if (clean !== null) kept.push(clean);
      declaration = new DeclarationCheck();
      continue;
    }
    // Depth only decides where a declaration ends; DeclarationCheck judges the parentheses.
    if (token.kind === 'function' || token.kind === 'refused-function') depth += 1;
    else if (token.kind === 'close' && depth > 0) depth -= 1;
    declaration.add(token);
  }
  const clean = declaration.finish();
  if (clean !== null) kept.push(clean);
  return kept.join(';');
}

/**
 * One declaration, checked token by token as they come (nothing is kept but the output so far):
 * `name`, `:`, the value, an optional `! important`; any token out of place ends in `dead`.
 */
class DeclarationCheck {
  private phase: 'name' | 'colon' | 'value' | 'bang' | 'important' | 'dead' = 'name';
  private property = '';
  private stringsAllowed = false;
  private value = '';
  private last = '';
  private depth = 0;
  private pendingSpace = false;

  add(token: Token): void {
    switch (this.phase) {
      case 'name':
        if (token.kind === 'space') return;
        this.property = token.text.toLowerCase();
        this.phase = token.kind === 'ident' && STYLE_PROPERTIES.has(this.property) ? 'colon' : 'dead';
        this.stringsAllowed = STRING_PROPERTIES.has(this.property);
        return;
      case 'colon':
        if (token.kind === 'space') return;
        this.phase = token.kind === 'colon' ? 'value' : 'dead';
        return;
      case 'value':
        this.addValue(token);
        return;
      case 'bang':
        if (token.kind === 'space') return;
        this.phase = token.kind === 'ident' && token.text.toLowerCase() === 'important' ? 'important' : 'dead';
        return;
      case 'important':
        if (token.kind !== 'space') this.phase = 'dead';
        return;
      case 'dead':
        return;
    }
  }

  /** `name:value`, or null when the declaration is incomplete or anything in it was refused. */
  finish(): string | null {
    if ((this.phase !== 'value' && this.phase !== 'important') || this.value === '' || this.depth !== 0) return null;
    return `${this.property}:${this.value}${this.phase === 'important' ? ' !important' : ''}`;
  }

  private addValue(token: Token): void {
    switch (token.kind) {
      case 'space':
        this.pendingSpace = this.value !== '';
        return;
      case 'bang':
        this.phase = this.depth === 0 ? 'bang' : 'dead';
        return;
      case 'function':
        if (this.depth === MAX_DEPTH) return this.die();
        this.depth += 1;
        break;
      case 'close':
        if (this.depth === 0) return this.die();
        this.depth -= 1;
        this.pendingSpace = false;
        break;
      case 'operator':
        if (this.depth === 0) return this.die();
        break;
      case 'string':
        if (!this.stringsAllowed) return this.die();
        break;
      case 'ident':
      case 'number':
      case 'hash':
      case 'comma':
      case 'slash':
        break;
      default:
        // colons, refused functions, bad tokens (and semicolons inside parentheses)
        return this.die();
    }
    if (this.pendingSpace && this.last !== '(') this.value += ' ';
    this.pendingSpace = false;
    this.value += token.text;
    this.last = token.text.charAt(token.text.length - 1);
  }

  private die(): void {
    this.phase = 'dead';
    this.value = '';
  }
}

/** CSS tokens, in one pass; anything this grammar does not need is a `bad` token. */
function* tokenize(css: string): Generator<Token> {
  const length = css.length;
  let i = 0;
  while (i < length) {
    const code = css.charCodeAt(i);
    const start = i;
    if (isSpace(code)) {
      while (i < length && isSpace(css.charCodeAt(i))) i += 1;
      yield { kind: 'space', text: ' ' };
    } else if (code === 0x2f /* / */ && css.charCodeAt(i + 1) === 0x2a /* * */) {
      const close = css.indexOf('*/', i + 2);
      i = close === -1 ? length : close + 2;
      yield { kind: 'space', text: ' ' };
    } else if (code === 0x22 /* " */ || code === 0x27 /* ' */) {
      i += 1;
      let bad = false;
      while (i < length && css.charCodeAt(i) !== code) {
        const inner = css.charCodeAt(i);
        if (inner === 0x5c /* \ */ || inner < 0x20 || inner === 0x7f) bad = true;
        i += 1;
      }
      if (i >= length) bad = true;
      i += 1;
      yield { kind: bad ? 'bad' : 'string', text: css.slice(start, i) };
    } else if (startsNumber(css, i)) {
      i = scanNumber(css, i);
      if (css.charCodeAt(i) === 0x25 /* % */) i += 1;
      else while (i < length && isNameCode(css.charCodeAt(i))) i += 1;
      yield { kind: 'number', text: css.slice(start, i) };
    } else if (code === 0x23 /* # */) {
      i += 1;
      while (i < length && isNameCode(css.charCodeAt(i))) i += 1;
      yield i === start + 1 ? { kind: 'bad', text: '#' } : { kind: 'hash', text: css.slice(start, i) };
    } else if (startsIdent(css, i)) {
      while (i < length && isNameCode(css.charCodeAt(i))) i += 1;
      const name = css.slice(start, i);
      if (css.charCodeAt(i) === 0x28 /* ( */) {
        i += 1;
        const lower = name.toLowerCase();
        yield { kind: FUNCTIONS.has(lower) ? 'function' : 'refused-function', text: `${lower}(` };
      } else {
        yield { kind: 'ident', text: name };
      }
    } else {
      i += 1;
      yield { kind: SINGLE.get(code) ?? 'bad', text: css.charAt(start) };
    }
  }
}

const SINGLE: ReadonlyMap<number, TokenKind> = new Map([
  [0x3a, 'colon'],
  [0x3b, 'semicolon'],
  [0x2c, 'comma'],
  [0x2f, 'slash'],
  [0x21, 'bang'],
  [0x29, 'close'],
  [0x2b, 'operator'],
  [0x2d, 'operator'],
  [0x2a, 'operator'],
]);

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d || code === 0x0c;
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

/** A letter, `_` or a non-ASCII character: what may start a CSS name (css-syntax-3 §4.2). */
function isNameStart(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) || code === 0x5f || code >= 0x80;
}

function isNameCode(code: number): boolean {
  return isNameStart(code) || isDigit(code) || code === 0x2d;
}

function startsIdent(css: string, i: number): boolean {
  const code = css.charCodeAt(i);
  if (isNameStart(code)) return true;
  if (code !== 0x2d /* - */) return false;
  const next = css.charCodeAt(i + 1);
  return isNameStart(next) || next === 0x2d;
}

function startsNumber(css: string, i: number): boolean {
  let code = css.charCodeAt(i);
  if (code === 0x2b /* + */ || code === 0x2d /* - */) code = css.charCodeAt(++i);
  if (isDigit(code)) return true;
  return code === 0x2e /* . */ && isDigit(css.charCodeAt(i + 1));
}

/** The end of the number starting at i (sign, digits, fraction, exponent), without its unit. */
function scanNumber(css: string, i: number): number {
  const length = css.length;
  if (css.charCodeAt(i) === 0x2b || css.charCodeAt(i) === 0x2d) i += 1;
  while (i < length && isDigit(css.charCodeAt(i))) i += 1;
  if (css.charCodeAt(i) === 0x2e && isDigit(css.charCodeAt(i + 1))) {
    i += 1;
    while (i < length && isDigit(css.charCodeAt(i))) i += 1;
  }
  const e = css.charCodeAt(i);
  if (e === 0x65 || e === 0x45) {
    let j = i + 1;
    if (css.charCodeAt(j) === 0x2b || css.charCodeAt(j) === 0x2d) j += 1;
    if (isDigit(css.charCodeAt(j))) {
      i = j;
      while (i < length && isDigit(css.charCodeAt(i))) i += 1;
    }
  }
  return i;
}
