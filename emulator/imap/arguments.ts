/**
 * Reading command arguments from tokens. Any mismatch throws `ArgumentError`, which the session
 * answers with Exchange's `BAD Command Argument Error. 11` (or `12` for a wrong argument count).
 *
 * @see https://www.rfc-editor.org/rfc/rfc3501#section-9 (astring, mailbox, date, number)
 */
import type { ImapToken } from './parser.js';
import { parseSequenceSet, type SequenceRange } from './sequence-set.js';

export class ArgumentError extends Error {
  constructor(
    message: string,
    readonly kind: 'argument' | 'count' | 'message-set' = 'argument',
  ) {
    super(message);
    this.name = 'ArgumentError';
  }
}

/** Checks the number of arguments. */
export function expectCount(args: readonly ImapToken[], min: number, max = min): void {
  if (args.length < min || args.length > max) throw new ArgumentError(`expected ${min}..${max} arguments`, 'count');
}

export function at(args: readonly ImapToken[], index: number): ImapToken {
  const token = args[index];
  if (token === undefined) throw new ArgumentError(`missing argument ${index + 1}`, 'count');
  return token;
}

/** An atom or a string, as text. */
export function astring(token: ImapToken): string {
  if (token.type === 'atom') return token.value;
  if (token.type === 'string') return token.value.toString('utf8');
  throw new ArgumentError('expected a string');
}

/** An atom, as text. */
export function atom(token: ImapToken): string {
  if (token.type !== 'atom') throw new ArgumentError('expected an atom');
  return token.value;
}

export function list(token: ImapToken): readonly ImapToken[] {
  if (token.type !== 'list') throw new ArgumentError('expected a list');
  return token.items;
}

export function isAtom(token: ImapToken | undefined, value: string): boolean {
  return token?.type === 'atom' && token.value.toUpperCase() === value;
}

export function number(token: ImapToken): number {
  const text = atom(token);
  if (!/^\d{1,15}$/.test(text)) throw new ArgumentError('expected a number');
  return Number(text);
}

export function sequenceSet(token: ImapToken): SequenceRange[] {
  const ranges = token.type === 'atom' ? parseSequenceSet(token.value) : undefined;
  if (!ranges) throw new ArgumentError('invalid message set', 'message-set');
  return ranges;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** A SEARCH date (`1-Feb-2024`), as midnight UTC of that day. */
export function searchDate(token: ImapToken): number {
  const [, day = '', name = '', year = ''] = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/.exec(astring(token)) ?? [];
  const month = MONTHS.indexOf(name.toLowerCase());
  if (month === -1) throw new ArgumentError('expected a date');
  return Date.UTC(Number(year), month, Number(day));
}

/** An APPEND date-time (`"17-Jul-1996 02:44:25 -0700"`). */
export function dateTime(token: ImapToken): Date {
  const [, day = '', name = '', year = '', hh = '', mm = '', ss = '', sign = '', zh = '', zm = ''] =
    /^\s?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(astring(token)) ?? [];
  const month = MONTHS.indexOf(name.toLowerCase());
  if (month === -1) throw new ArgumentError('expected a date-time');
  const offset = (Number(zh) * 60 + Number(zm)) * (sign === '-' ? -1 : 1);
  const utc = Date.UTC(Number(year), month, Number(day), Number(hh), Number(mm), Number(ss));
  return new Date(utc - offset * 60_000);
}

/** Formats an INTERNALDATE (`"17-Jul-1996 02:44:25 +0000"`), always in UTC. */
export function formatDateTime(date: Date): string {
  // toISOString is YYYY-MM-DDTHH:MM:SS.sssZ, always UTC.
  const iso = date.toISOString();
  return `"${iso.slice(8, 10)}-${DISPLAY_MONTHS[date.getUTCMonth()] ?? ''}-${iso.slice(0, 4)} ${iso.slice(11, 19)} +0000"`;
}

const DISPLAY_MONTHS = MONTHS.map((m) => m.charAt(0).toUpperCase() + m.slice(1));
