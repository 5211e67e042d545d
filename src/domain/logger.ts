/**
 * The structured logger every layer writes to (a port: src/server/logger.ts implements it with
 * pino; tests pass silentLogger). Lives in the domain so that every layer may depend on it.
 */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
