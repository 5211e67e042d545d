import pino from 'pino';

/** The structured logger every part of the gateway writes to (pino behind it; tests pass silentLogger). */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * Paths pino blanks out wherever they appear: API keys travel in `authorization`, webhook and
 * provider secrets under these names. Logs never carry a usable key or secret.
 */
const REDACT = ['authorization', '*.authorization', 'headers.authorization', 'secret', '*.secret', 'apiKey', '*.apiKey', 'key', '*.key', 'token', '*.token'];

/** JSON lines (pino) on stderr, or to `destination` (tests). */
export function jsonLogger(base: Record<string, unknown> = {}, destination?: { write(line: string): void }): Logger {
  const logger = pino(
    { base, level: process.env.LOG_LEVEL || 'info', messageKey: 'msg', timestamp: pino.stdTimeFunctions.isoTime, redact: { paths: REDACT, censor: '[redacted]' }, formatters: { level: (label) => ({ level: label }) } },
    destination ?? pino.destination({ fd: 2, sync: false }),
  );
  return {
    info: (message, fields) => logger.info(fields ?? {}, message),
    warn: (message, fields) => logger.warn(fields ?? {}, message),
    error: (message, fields) => logger.error(fields ?? {}, message),
  };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
