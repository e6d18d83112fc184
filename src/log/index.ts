export { createLogger, type LogBundle, type Logger, type LoggerOptions } from './logger.js';
export { scrubSecrets, REDACTED, REDACT_PATHS } from './redact.js';
export { DailyFile } from './daily-file.js';
