/**
 * A message in the emulated Exchange store: its raw MIME (immutable, shared by copies), its flags
 * (mutable), its internal date and its UID in the folder holding it.
 *
 * @see https://www.rfc-editor.org/rfc/rfc3501#section-2.3 (message attributes)
 */
import { findHeader, parseMimeStructure, type MimePart } from './mime-structure.js';
import type { MessageFlag } from './message-flags.js';

/** The octets of a message and its MIME tree, parsed on first use and kept. */
export class MessageContent {
  private parsed: MimePart | undefined;
  private memos: Map<string, unknown> | undefined;

  constructor(readonly raw: Buffer) {}

  /** RFC822.SIZE: the number of octets of the message as stored. */
  get size(): number {
    return this.raw.length;
  }

  get structure(): MimePart {
    this.parsed ??= parseMimeStructure(this.raw);
    return this.parsed;
  }

  /**
   * A value derived from the content, computed once: the content never changes, so protocol
   * layers keep their encodings of it here (IMAP's ENVELOPE and BODYSTRUCTURE).
   */
  memo<T>(key: string, compute: (content: MessageContent) => T, guard: (value: unknown) => value is T): T {
    const known = this.memos?.get(key);
    if (guard(known)) return known;
    const value = compute(this);
    this.memos ??= new Map();
    this.memos.set(key, value);
    return value;
  }

  /** The value of a top-level header field. */
  header(name: string): string | undefined {
    return findHeader(this.structure, name);
  }
}

/** A message as one folder holds it. */
export interface StoredMessage {
  /** Opaque id, stable while the message stays in its folder (a move gives a new one, as Graph does). */
  readonly id: string;
  readonly uid: number;
  readonly content: MessageContent;
  readonly internalDate: Date;
  readonly flags: Set<MessageFlag>;
}
