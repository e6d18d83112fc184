/**
 * The emulator's own small error type (it shares nothing with Postern's `src/errors`). Used by
 * the directory and the control API; protocol errors (AADSTS, IMAP, SMTP) have their own shapes.
 */

/** Why an emulator operation failed; maps to an HTTP status in the control API. */
export type EmulatorErrorCode = 'not-found' | 'conflict' | 'invalid' | 'unauthorized';

const STATUS: Record<EmulatorErrorCode, number> = { 'not-found': 404, conflict: 409, invalid: 400, unauthorized: 401 };

/** An error with a code the control API turns into `{ error: { code, message } }`. */
export class EmulatorError extends Error {
  readonly code: EmulatorErrorCode;

  constructor(code: EmulatorErrorCode, message: string) {
    super(message);
    this.name = 'EmulatorError';
    this.code = code;
  }

  /** The HTTP status for this error's code. */
  get status(): number {
    return STATUS[this.code];
  }
}

/** Narrowing helper. */
export function isEmulatorError(value: unknown): value is EmulatorError {
  return value instanceof EmulatorError;
}
