import { validateAddress } from './addresses.js';
import type { Channel, Metadata } from './call.js';
import type { CallFilter, IntRange, TimeRange } from './call-store.js';
import { InvalidArgumentError, UserErrorCode, userError, type UserError } from './errors.js';

/**
 * The bounds of what a request may ask of the calls domain: createCall's addresses, metadata and
 * idempotency key (userErrors), a listing's page size and a filter (BAD_USER_INPUT, naming the
 * argument). Each bound is what keeps one request from slowing another tenant's.
 */

const MAX_PAGE_SIZE = 100;
const MAX_METADATA_BYTES = 16 * 1024;

/** createCall's fields other than its options (call-options.ts): what validateCreateInput reads. */
export interface CreateCallFields {
  from: string;
  to: string;
  fromChannel: Channel;
  toChannel: Channel;
  metadata?: Metadata | null;
  idempotencyKey?: string | null;
}

export function checkPageSize(argument: string, value: number | null | undefined): void {
  if (value != null && (!Number.isInteger(value) || value < 0 || value > MAX_PAGE_SIZE)) {
    throw new InvalidArgumentError(argument, `"${argument}" must be between 0 and ${MAX_PAGE_SIZE}, got ${value}`);
  }
}

export function validateCreateInput(input: CreateCallFields): UserError[] {
  const errors: UserError[] = [];
  const from = validateAddress(input.from, input.fromChannel, ['input', 'from']);
  if (from) errors.push(from);
  const to = validateAddress(input.to, input.toChannel, ['input', 'to']);
  if (to) errors.push(to);
  if (input.metadata != null) {
    const problem = metadataProblem(input.metadata);
    if (problem) errors.push(userError(UserErrorCode.INVALID_METADATA, ['input', 'metadata'], problem));
  }
  const key = input.idempotencyKey;
  if (key != null && (key.length < 1 || key.length > 255 || /[\u0000-\u001f\u007f]/.test(key))) {
    errors.push(
      userError(UserErrorCode.INVALID_IDEMPOTENCY_KEY, ['input', 'idempotencyKey'], 'An idempotency key is 1 to 255 characters with no control characters'),
    );
  }
  return errors;
}

function metadataProblem(metadata: Metadata): string | null {
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) return 'metadata must be a JSON object';
  const json = JSON.stringify(metadata);
  if (Buffer.byteLength(json) > MAX_METADATA_BYTES) {
    return `metadata is ${Buffer.byteLength(json)} bytes serialized; at most ${MAX_METADATA_BYTES} are allowed`;
  }
  // PostgreSQL's jsonb cannot hold U+0000, nor half of a surrogate pair, in a string or a key.
  if (unstorable(metadata)) return 'metadata must not contain the NUL character (\\u0000) or an unpaired surrogate (\\ud800–\\udfff)';
  return null;
}

/**
 * A metadata filter is matched against every live event of its tenant (domain/filter-match.ts)
 * as well as in SQL: its size bounds that work. A filter is a few keys, not a document.
 */
const FILTER_METADATA_LIMITS = { bytes: 1_024, depth: 4, arrayLength: 16, keys: 32 };

function filterMetadataProblem(metadata: Metadata): string | null {
  const { bytes, depth, arrayLength, keys } = FILTER_METADATA_LIMITS;
  if (Buffer.byteLength(JSON.stringify(metadata)) > bytes) return `a metadata filter is at most ${bytes} bytes serialized`;
  let keyCount = 0;
  const walk = (value: unknown, level: number): string | null => {
    if (value === null || typeof value !== 'object') return null;
    if (level > depth) return `a metadata filter nests objects and arrays at most ${depth} deep`;
    const items = Array.isArray(value) ? value : Object.values(value);
    if (Array.isArray(value) && value.length > arrayLength) return `an array in a metadata filter has at most ${arrayLength} items`;
    if (!Array.isArray(value) && (keyCount += items.length) > keys) return `a metadata filter has at most ${keys} keys`;
    for (const item of items) {
      const problem = walk(item, level + 1);
      if (problem) return problem;
    }
    return null;
  };
  return walk(metadata, 1);
}

/** NUL, or a surrogate not part of a pair: JSON.stringify escapes it, and jsonb refuses the escape. */
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function unstorable(value: unknown): boolean {
  if (typeof value === 'string') return UNSTORABLE.test(value);
  if (Array.isArray(value)) return value.some(unstorable);
  if (value && typeof value === 'object') {
    return Object.entries(value).some(([key, item]) => UNSTORABLE.test(key) || unstorable(item));
  }
  return false;
}

export function validateFilter(filter: CallFilter): CallFilter {
  for (const field of ['fromAddress', 'toAddress'] as const) {
    const value = filter[field];
    if (value != null && (value.length > 128 || value.includes('\u0000'))) {
      throw new InvalidArgumentError(`filter.${field}`, `"filter.${field}" must be at most 128 characters with no NUL`);
    }
  }
  if (filter.metadata != null) {
    const problem = metadataProblem(filter.metadata) ?? filterMetadataProblem(filter.metadata);
    if (problem) throw new InvalidArgumentError('filter.metadata', `"filter.metadata": ${problem}`);
  }
  for (const field of ['startedAt', 'answeredAt', 'endedAt'] as const) checkTimeRange(`filter.${field}`, filter[field]);
  checkIntRange('filter.duration', filter.duration);
  if (filter.endReason && filter.endReason.length > MAX_FILTER_LIST) {
    throw new InvalidArgumentError('filter.endReason', `"filter.endReason" lists at most ${MAX_FILTER_LIST} reasons`);
  }
  if (filter.answeredBy && filter.answeredBy.length > MAX_FILTER_LIST) {
    throw new InvalidArgumentError('filter.answeredBy', `"filter.answeredBy" lists at most ${MAX_FILTER_LIST} values`);
  }
  return filter;
}

/** A list in a filter names each value at most once: more than every value is a mistake. */
const MAX_FILTER_LIST = 16;
/** Longest duration a range may name: 100 days in seconds (a call's longest is 4 h). */
const MAX_DURATION_SECONDS = 8_640_000;

function checkTimeRange(argument: string, range: TimeRange | null | undefined): void {
  if (range?.from && range.to && range.from > range.to) {
    throw new InvalidArgumentError(argument, `"${argument}": from must not be after to`);
  }
}

function checkIntRange(argument: string, range: IntRange | null | undefined): void {
  if (!range) return;
  for (const bound of ['min', 'max'] as const) {
    const value = range[bound];
    if (value != null && (!Number.isInteger(value) || value < 0 || value > MAX_DURATION_SECONDS)) {
      throw new InvalidArgumentError(`${argument}.${bound}`, `"${argument}.${bound}" must be a whole number of seconds from 0 to ${MAX_DURATION_SECONDS}`);
    }
  }
  if (range.min != null && range.max != null && range.min > range.max) {
    throw new InvalidArgumentError(argument, `"${argument}": min must not be above max`);
  }
}
