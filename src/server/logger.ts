import pino from 'pino';
import type { LogLevel } from '../config.js';
import type { Logger } from '../domain/logger.js';
import { logIds } from '../shared/tracing.js';

/**
 * Paths pino blanks out wherever they appear: API keys travel in `authorization`, webhook and
 * provider secrets under these names. Logs never carry a usable key or secret.
 */
const REDACT = ['authorization', '*.authorization', 'headers.authorization', 'secret', '*.secret', 'apiKey', '*.apiKey', 'key', '*.key', 'token', '*.token'];

/** JSON lines (pino) on stderr, or to `destination` (tests). */
/** `level` is the config's LOG_LEVEL (config.ts validates it). */
export function jsonLogger(base: Record<string, unknown> = {}, destination?: { write(line: string): void }, level: LogLevel = 'info'): Logger {
  const logger = pino(
    {
      base,
      level,
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
      // trace_id and span_id of the active span, when tracing is on (shared/tracing.ts).
      mixin: () => logIds() ?? {},
    },
    // Lines are gathered up to 4 KB and written at least every 100 ms, not one write each: a write
    // per request line was ≈ 35 µs of the request path's CPU (issue 12 profile). pino flushes
    // what is left when the process exits.
    destination ?? pino.destination({ fd: 2, sync: false, minLength: 4096, periodicFlush: 100 }),
  );
  return {
    info: (message, fields) => logger.info(fields ?? {}, message),
    warn: (message, fields) => logger.warn(fields ?? {}, message),
    error: (message, fields) => logger.error(fields ?? {}, message),
  };
}
