import { GraphQLError } from 'graphql';
import { UserErrorCode } from '../domain/errors.js';

/**
 * The one catalogue of error codes (as fastify's FST_ERR_* and Mercurius's MER_ERR_*): every code a
 * client can see, with its HTTP status, what WebSocket does with it, and one line of meaning. The
 * sites that raise one take the code from here (`CODE.X`, `gatewayError`), the schema's
 * UserErrorCode descriptions come from `USER_ERRORS`, and docs/errors.md is rendered from both
 * (scripts/error-reference.ts; test/unit/error-catalogue.test.ts fails when it differs, or when a
 * code is written as a string literal anywhere else in src/).
 */
interface GatewayErrorSpec {
  /** The HTTP status of a request refused with it (or of the response that carries it). */
  readonly http: number;
  /** What a WebSocket client sees. */
  readonly webSocket: string;
  readonly meaning: string;
}

export const GATEWAY_ERRORS = {
  UNAUTHENTICATED: {
    http: 401,
    webSocket: 'close 4403 at `connection_init`; an error frame, then 4403, when the key is revoked while the socket is open',
    meaning: 'No API key or access token, or one that is unknown, revoked, expired, tampered with or of another application (`WWW-Authenticate: Bearer`).',
  },
  FORBIDDEN: {
    http: 403,
    webSocket: 'an error frame (scope); close 4403 at `connection_init` (origin)',
    meaning: "An access token without the scope the operation's fields need, or a browser origin the application does not allow.",
  },
  RATE_LIMITED: {
    http: 429,
    webSocket: 'an error frame with `retryAfter`',
    meaning:
      "Over the key's (or token's) rate limit, an address blocked after failed authentications, or a heavy read (callStats, totalCount) over its application's share; `Retry-After` and `extensions.retryAfter` say when to retry. Over WebSocket also a socket's or key's cap of concurrent operations (no `retryAfter`: complete one first).",
  },
  PAYLOAD_TOO_LARGE: {
    http: 413,
    webSocket: 'close 1009 (a frame over WS_MAX_PAYLOAD_BYTES)',
    meaning: 'The request body is over MAX_REQUEST_BYTES.',
  },
  BAD_REQUEST: {
    http: 400,
    webSocket: '(the socket is closed with 4400 on a malformed message)',
    meaning: "The body is not valid JSON or not a GraphQL request (Apollo Server's CSRF and request-shape checks use the same code).",
  },
  PERSISTED_DOCUMENT_REQUIRED: {
    http: 403,
    webSocket: 'an error frame',
    meaning:
      "The application's documents policy (`apps documents`: TRUSTED_FOR_TOKENS for access tokens, TRUSTED_ONLY for every caller) takes only registered documents named by `documentId`; the document sent was refused unread.",
  },
  PERSISTED_DOCUMENT_NOT_FOUND: {
    http: 404,
    webSocket: 'an error frame',
    meaning: '`documentId` names no document registered for this application (`calls-gateway documents push`).',
  },
  GRAPHQL_PARSE_FAILED: { http: 400, webSocket: 'an error frame', meaning: 'The document is not valid GraphQL syntax.' },
  GRAPHQL_VALIDATION_FAILED: {
    http: 400,
    webSocket: 'an error frame',
    meaning: "The document does not validate against the schema, or is over the gateway's limits (depth, aliases, size, cost).",
  },
  OPERATION_RESOLUTION_FAILURE: {
    http: 400,
    webSocket: 'an error frame',
    meaning: 'operationName names no operation of the document, or the document has several and none is named.',
  },
  BAD_USER_INPUT: {
    http: 400,
    webSocket: 'an error frame (variables), or the field null with the error (arguments)',
    meaning:
      'Variables that cannot be coerced to their types (400), or an argument the domain refuses, such as a malformed cursor or `first` over 100 (200, the field is null; `extensions.argumentName`).',
  },
  INTERNAL_SERVER_ERROR: {
    http: 500,
    webSocket: 'the field null with the error',
    meaning:
      'Anything unexpected; in production the message is "Internal server error" and the detail is logged with the request id (200 when other fields answered).',
  },
  RECORDING_NOT_FOUND: { http: 404, webSocket: '(HTTP only)', meaning: 'GET /recordings/{id}: no saved recording with this id is visible to the key.' },
  PROVIDER_ERROR: {
    http: 502,
    webSocket: '(HTTP only)',
    meaning: "GET /recordings/{id}: the recording's provider could not say where its file is now.",
  },
} as const satisfies Readonly<Record<string, GatewayErrorSpec>>;

export type GatewayErrorCode = keyof typeof GATEWAY_ERRORS;

/** Each code by name, for the sites that compare or set one (`CODE.INTERNAL_SERVER_ERROR`). */
export const CODE = Object.fromEntries(Object.keys(GATEWAY_ERRORS).map((code) => [code, code])) as { readonly [C in GatewayErrorCode]: C };

/** An error of the catalogue: its code, its HTTP status (lifted by both HTTP paths, dropped before a client sees it) and any headers. */
export function gatewayError(code: GatewayErrorCode, message: string, extensions: Record<string, unknown> = {}, headers?: Map<string, string>): GraphQLError {
  return new GraphQLError(message, { extensions: { ...extensions, code, http: { status: GATEWAY_ERRORS[code].http, ...(headers ? { headers } : {}) } } });
}

/** The HTTP status an error of gatewayError carries. */
export function statusOf(error: GraphQLError): number {
  return (error.extensions.http as { status: number }).status;
}

/** What each UserErrorCode means (the schema's descriptions of the enum's values): `userErrors` of a 200 answer, nothing changed. */
export const USER_ERRORS: { readonly [C in UserErrorCode]: string } = {
  INVALID_PHONE_NUMBER: 'Not a possible E.164 number for a PSTN or WhatsApp leg.',
  PHONE_NUMBER_NOT_ASSIGNED: '`from` is not a number assigned to this application.',
  INVALID_ADDRESS: 'Not a valid WebRTC client identity.',
  INVALID_METADATA:
    'metadata is over 16 KB serialized, or holds a NUL character or half of a surrogate pair. (A value that is not a JSON object, or is nested over 32 deep, never reaches the resolver: it is a BAD_USER_INPUT GraphQL error.)',
  IDEMPOTENCY_KEY_REUSED: 'The idempotency key was used within 24 h with different input.',
  INVALID_IDEMPOTENCY_KEY: 'The idempotency key is empty, over 255 characters, or has control characters.',
  CALL_NOT_FOUND: 'No call with this id is visible to this key.',
  CALL_NOT_ACTIVE: 'The call has already ended.',
  IDENTITY_NOT_ALLOWED:
    "createCallToken by an access token: an identity other than the one the token was minted with (participantIdentity), or, for a token minted without one, a party of the call (a WebRTC party's identity, or a sip:/sip_/whatsapp: leg). createAccessToken: an identity of those reserved forms.",
  COMMAND_NOT_ALLOWED: 'The command does not apply to the call in its current state or direction.',
  PROVIDER_NOT_CONFIGURED: 'No provider is configured for this channel in this mode.',
  PROVIDER_ERROR: 'The channel provider refused or failed the request.',
  RATE_LIMITED: 'Too many requests for this API key; retry later.',
  TEST_MODE_ONLY: 'Only a test key may do this (e.g. simulateInboundCall).',
  INVALID_ARGUMENT: 'An argument is out of range (e.g. a token ttl outside 60 to 86400 seconds).',
  INVALID_URL: 'Not an absolute http(s) URL of at most 2048 characters, without credentials.',
  URL_NOT_ALLOWED:
    'A webhook endpoint (in either mode) that resolves to a loopback, private or link-local address; the message does not say which address, the log does.',
  STATUS_CALLBACK_SECRET_MISSING: "statusCallbackUrl needs the application's status-callback secret: create it with rotateStatusCallbackSecret.",
  WEBHOOK_ENDPOINT_NOT_FOUND: 'No webhook endpoint with this id is visible to this key.',
  WEBHOOK_DELIVERY_NOT_FOUND: 'No webhook delivery with this id is visible to this key.',
  ACCESS_TOKENS_NOT_CONFIGURED: 'No key to sign access tokens is configured (ACCESS_TOKEN_KEYS, or DATA_DIR/access-token.key, which production only reads).',
  OUTSIDE_TOKEN_FILTER: "An access token's filter would not match the call (createCall), or the input sets what only the secret key may (statusCallbackUrl).",
};
