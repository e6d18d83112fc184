/**
 * The emulator's minimal logger interface. The CLI passes a console-backed logger; tests pass
 * nothing (silent). Secrets never reach it: callers log redacted request summaries only.
 */

/** A logger with the levels the emulator uses. */
export interface EmulatorLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Discards everything. */
export const silentLogger: EmulatorLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** Writes one line per event to the given stream (stderr by default). */
export function createConsoleLogger(stream: NodeJS.WritableStream = process.stderr): EmulatorLogger {
  const write = (level: string, message: string, fields?: Record<string, unknown>): void => {
    const suffix = fields === undefined ? '' : ` ${JSON.stringify(fields)}`;
    stream.write(`${new Date().toISOString()} ${level} ${message}${suffix}\n`);
  };
  return {
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}
