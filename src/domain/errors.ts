/**
 * Expected business failures. They travel as values (not exceptions) so that a resolver maps
 * them to `userErrors` in one place, and nothing is persisted or called when one occurs.
 */
export enum UserErrorCode {
  INVALID_PHONE_NUMBER = 'INVALID_PHONE_NUMBER',
  PHONE_NUMBER_NOT_ASSIGNED = 'PHONE_NUMBER_NOT_ASSIGNED',
  INVALID_ADDRESS = 'INVALID_ADDRESS',
  INVALID_METADATA = 'INVALID_METADATA',
  IDEMPOTENCY_KEY_REUSED = 'IDEMPOTENCY_KEY_REUSED',
  /** Added to the contract: an idempotency key that is empty, too long or has control characters. */
  INVALID_IDEMPOTENCY_KEY = 'INVALID_IDEMPOTENCY_KEY',
  CALL_NOT_FOUND = 'CALL_NOT_FOUND',
  CALL_NOT_ACTIVE = 'CALL_NOT_ACTIVE',
  COMMAND_NOT_ALLOWED = 'COMMAND_NOT_ALLOWED',
  PROVIDER_NOT_CONFIGURED = 'PROVIDER_NOT_CONFIGURED',
  PROVIDER_ERROR = 'PROVIDER_ERROR',
  RATE_LIMITED = 'RATE_LIMITED',
  /** Added to the contract: a test-mode feature (simulateInboundCall) used with a live key. */
  TEST_MODE_ONLY = 'TEST_MODE_ONLY',
  /** Added to the contract: an argument out of its range (createCallToken's ttl). */
  INVALID_ARGUMENT = 'INVALID_ARGUMENT',
  /** Added to the contract (webhooks): not an absolute http(s) URL. */
  INVALID_URL = 'INVALID_URL',
  /** Added to the contract (webhooks): an endpoint on a loopback, private or link-local address. */
  URL_NOT_ALLOWED = 'URL_NOT_ALLOWED',
  /** Added to the contract (access tokens): a room identity a token holder may not take. */
  IDENTITY_NOT_ALLOWED = 'IDENTITY_NOT_ALLOWED',
  STATUS_CALLBACK_SECRET_MISSING = 'STATUS_CALLBACK_SECRET_MISSING',
  WEBHOOK_ENDPOINT_NOT_FOUND = 'WEBHOOK_ENDPOINT_NOT_FOUND',
  WEBHOOK_DELIVERY_NOT_FOUND = 'WEBHOOK_DELIVERY_NOT_FOUND',
  /** Added to the contract (access tokens): a call the token's filter would not match, or an option only the secret key may set. */
  OUTSIDE_TOKEN_FILTER = 'OUTSIDE_TOKEN_FILTER',
  /** Added to the contract: createAccessToken where no signing key is configured (production without ACCESS_TOKEN_KEYS). */
  ACCESS_TOKENS_NOT_CONFIGURED = 'ACCESS_TOKENS_NOT_CONFIGURED',
}

export interface UserError {
  /** Path to the offending input field, e.g. ["input", "to"]. */
  field: string[] | null;
  message: string;
  code: UserErrorCode;
}

export function userError(code: UserErrorCode, field: string[] | null, message: string): UserError {
  return { code, field, message };
}

/**
 * Bad arguments that are not business failures (a malformed cursor, `first` above its cap):
 * the GraphQL layer turns them into a `BAD_USER_INPUT` error naming the argument.
 */
export class InvalidArgumentError extends Error {
  constructor(
    readonly argument: string,
    message: string,
  ) {
    super(message);
    this.name = 'InvalidArgumentError';
  }
}

/**
 * A tenant has as many heavy reads (callStats, totalCount) running and waiting as it may: the
 * request is refused at once (RATE_LIMITED, retry after `retryAfterSeconds`) rather than queued
 * without bound, so one tenant's aggregations cannot hold the database pool from the others.
 */
export class TooBusyError extends Error {
  constructor(readonly retryAfterSeconds = 1) {
    super('Too many heavy reads (callStats, totalCount) of this application at once');
    this.name = 'TooBusyError';
  }
}
