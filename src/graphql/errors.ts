import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { InvalidArgumentError, TooBusyError } from '../domain/errors.js';
import { withoutSuggestions } from './limits.js';
import { CODE, gatewayError } from './error-codes.js';

/**
 * The one place where errors become what clients see, for HTTP (Apollo's formatError) and
 * WebSocket alike:
 * - the domain's InvalidArgumentError → BAD_USER_INPUT, naming the argument (a refused heavy
 *   read is RATE_LIMITED already: see heavyRead);
 * - errors that already carry a code (validation, auth) pass through;
 * - anything else is INTERNAL_SERVER_ERROR; in production its message is replaced, so no SQL,
 *   stack or internal detail leaves the process (the detail is logged with the request id).
 */
export function formatGatewayError(formatted: GraphQLFormattedError, error: unknown, production: boolean): GraphQLFormattedError {
  // Duck-typed, not `instanceof GraphQLError`: a test runner may load a second copy of graphql.
  const original = error && typeof error === 'object' && 'originalError' in error ? error.originalError : error;
  if (original instanceof InvalidArgumentError) {
    return {
      message: original.message,
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: CODE.BAD_USER_INPUT, argumentName: original.argument },
    };
  }
  const code = formatted.extensions?.code;
  if (code && code !== CODE.INTERNAL_SERVER_ERROR) {
    // An expected error (validation, auth): its stack trace says nothing useful to a client.
    const { stacktrace: _stacktrace, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, message: withoutSuggestions(formatted.message), extensions };
  }
  if (!production) return { ...formatted, extensions: { ...formatted.extensions, code: CODE.INTERNAL_SERVER_ERROR } };
  return { message: 'Internal server error', locations: formatted.locations, path: formatted.path, extensions: { code: CODE.INTERNAL_SERVER_ERROR } };
}

/** An operation (or part of one) an access token's scopes do not cover, or a browser origin the application does not allow: 403, nothing ran. */
export function forbidden(message: string): GraphQLError {
  return gatewayError(CODE.FORBIDDEN, message);
}

export function unauthenticated(): GraphQLError {
  return gatewayError(
    CODE.UNAUTHENTICATED,
    'A valid API key or access token is required: Authorization: Bearer sk_test_app_…, sk_live_app_… or an access token',
    {},
    new Map([['www-authenticate', 'Bearer']]),
  );
}

/** Too many requests for this key: HTTP 429 with Retry-After; `retryAfter` (seconds) for WebSocket clients. */
export function rateLimited(retryAfterSeconds: number, what = 'Rate limit exceeded for this API key'): GraphQLError {
  return gatewayError(
    CODE.RATE_LIMITED,
    `${what}; retry after ${retryAfterSeconds} s`,
    { retryAfter: retryAfterSeconds },
    new Map([['retry-after', String(retryAfterSeconds)]]),
  );
}

/**
 * The document does not name one operation to run: graphql-js's rule, in Apollo Server's words and
 * code (400), so POST, GET and WebSocket refuse it alike.
 */
export function operationResolutionFailure(operationName: string | null | undefined): GraphQLError {
  const message = operationName ? `Unknown operation named "${operationName}".` : 'Must provide operation name if query contains multiple operations.';
  return gatewayError(CODE.OPERATION_RESOLUTION_FAILURE, message);
}

/**
 * A heavy read (callStats, totalCount) refused because its application has as many running and
 * waiting as it may (TooBusyError) answers as the key's rate limit does: RATE_LIMITED, HTTP 429
 * with Retry-After (both HTTP paths lift `extensions.http`), `retryAfter` for WebSocket clients.
 * Thrown from the resolver, so both executors and every transport answer it alike.
 */
export async function heavyRead<T>(read: Promise<T>): Promise<T> {
  try {
    return await read;
  } catch (error) {
    if (error instanceof TooBusyError) throw rateLimited(error.retryAfterSeconds, error.message);
    throw error;
  }
}
