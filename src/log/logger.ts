import { pino, type DestinationStream, type Logger, type StreamEntry } from 'pino';
import { DailyFile, type Clock } from './daily-file.js';
import { REDACT_PATHS, REDACTED, scrubSecrets } from './redact.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level: string;
  /** Directory of the day files; without it only the console (or the given streams) receive lines. */
  dir?: string;
  console?: boolean;
  clock?: Clock;
  /** Extra destinations (tests capture lines here). */
  streams?: DestinationStream[];
}

export interface LogBundle {
  logger: Logger;
  /** Paths of today's files, for `postern logs` and tests. */
  files(): { combined?: string; error?: string };
  /** Lines the log files could not take (a full disk, a read-only file system), both files together. */
  dropped(): number;
  close(): void;
}

/**
 * The root logger: console, `email-combined.YYYY-MM-DD.log` (everything at the configured level)
 * and `email-error.YYYY-MM-DD.log` (errors only). Redaction is on in every environment.
 */
export function createLogger(options: LoggerOptions): LogBundle {
  const level = options.level;
  const entries: StreamEntry[] = [];
  let combined: DailyFile | undefined;
  let errors: DailyFile | undefined;
  if (options.dir !== undefined) {
    combined = new DailyFile(options.dir, 'email-combined', options.clock);
    errors = new DailyFile(options.dir, 'email-error', options.clock);
    entries.push({ level: level as pino.Level, stream: lineStream(combined) });
    entries.push({ level: 'error', stream: lineStream(errors) });
  }
  if (options.console) entries.push({ level: level as pino.Level, stream: process.stdout });
  for (const stream of options.streams ?? []) entries.push({ level: level as pino.Level, stream });

  const logger = pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: options.clock ? () => `,"time":"${options.clock?.().toISOString()}"` : pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
      hooks: { streamWrite: scrubSecrets },
    },
    pino.multistream(entries, { dedupe: false }),
  );
  return {
    logger,
    files: () => ({ combined: combined?.currentPath(), error: errors?.currentPath() }),
    dropped: () => (combined?.dropped ?? 0) + (errors?.dropped ?? 0),
    close: () => {
      combined?.end();
      errors?.end();
    },
  };
}

function lineStream(file: DailyFile): DestinationStream {
  return { write: (line: string) => file.writeLine(line) };
}
