import { CATALOGUE, type ErrorCode, type ErrorKind } from './catalogue.js';

export interface PosternErrorOptions {
  /** A message more specific than the catalogue's, e.g. naming the field or the object. */
  message?: string;
  /** A remedy more specific than the catalogue's. */
  remedy?: string;
  /** Structured facts safe to show to the caller (never secrets). */
  details?: Record<string, unknown>;
  /** The original error. Kept for the error log; never serialised into API responses. */
  cause?: unknown;
  /** A raw response or transcript from the other side; non-enumerable so that logging skips it. */
  raw?: unknown;
}

/**
 * The one error class of Postern. Everything thrown across a module boundary is a PosternError
 * carrying a catalogue code; adapters translate foreign errors at the edge.
 */
export class PosternError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly kind: ErrorKind;
  readonly remedy: string | undefined;
  readonly details: Record<string, unknown> | undefined;
  declare readonly raw: unknown;

  constructor(code: ErrorCode, options: PosternErrorOptions = {}) {
    const entry = CATALOGUE[code];
    super(options.message ?? entry.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PosternError';
    this.code = code;
    this.status = entry.status;
    this.kind = entry.kind;
    this.remedy = options.remedy ?? entry.remedy;
    this.details = options.details;
    Object.defineProperty(this, 'raw', { value: options.raw, enumerable: false, writable: false });
  }

  /** The shape of the `error` member of API error bodies. */
  toJSON(): { code: ErrorCode; message: string; remedy?: string; details?: Record<string, unknown> } {
    return {
      code: this.code,
      message: this.message,
      ...(this.remedy === undefined ? {} : { remedy: this.remedy }),
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }
}

export function isPosternError(error: unknown, code?: ErrorCode): error is PosternError {
  return error instanceof PosternError && (code === undefined || error.code === code);
}
