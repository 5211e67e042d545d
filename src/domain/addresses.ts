import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { LRUCache } from 'lru-cache';
import { Channel, isPhoneChannel } from './call.js';
import { UserErrorCode, userError, type UserError } from './errors.js';

/**
 * E.164's shape: '+', a country code (not 0), at most 15 digits in all, no spaces or dashes. How
 * many digits a country's numbers have is libphonenumber's to say: Niue's (+683) have 4 after the
 * country code, so a fixed minimum of 8 digits would refuse real numbers.
 */
const E164_SHAPE = /^\+[1-9]\d{1,14}$/;
/** WebRTC client identities: 1–128 of A–Z a–z 0–9 _ - . : @ */
const CLIENT_IDENTITY = /^[A-Za-z0-9_\-.:@]{1,128}$/;

/**
 * Whether `value` is a *possible* E.164 number for its country (libphonenumber's notion:
 * right length for the country code, not necessarily allocated, so `+15551234567` passes).
 * The shape check comes first so that national formats, spaces and dashes are refused
 * rather than silently normalised.
 */
export function isPossibleE164(value: string): boolean {
  if (!E164_SHAPE.test(value)) return false;
  let possible = possibleCache.get(value);
  if (possible === undefined) {
    const parsed = parsePhoneNumberFromString(value);
    possible = parsed !== undefined && parsed.number === value && parsed.isPossible();
    possibleCache.set(value, possible);
  }
  return possible;
}

/**
 * libphonenumber tries every region of a shared country code (+1: 25 NANP regions) per parse,
 * ≈23 µs; the same numbers recur (an application's own numbers, frequent destinations), so the
 * answers are kept, oldest evicted first. A pure function of its input: nothing to invalidate.
 */
const possibleCache = new LRUCache<string, boolean>({ max: 10_000 });

export function isClientIdentity(value: string): boolean {
  return CLIENT_IDENTITY.test(value);
}

/** Validates one address for its channel; `field` is the path reported in the error. */
export function validateAddress(value: string, channel: Channel, field: string[]): UserError | null {
  if (isPhoneChannel(channel)) {
    return isPossibleE164(value)
      ? null
      : userError(
          UserErrorCode.INVALID_PHONE_NUMBER,
          field,
          `"${truncate(value)}" is not a possible E.164 phone number (+, country code and number, at most 15 digits, no spaces) for channel ${channel.toUpperCase()}`,
        );
  }
  return isClientIdentity(value)
    ? null
    : userError(UserErrorCode.INVALID_ADDRESS, field, `"${truncate(value)}" is not a WebRTC client identity (1 to 128 characters of A-Z a-z 0-9 _ - . : @)`);
}

function truncate(value: string): string {
  return value.length > 40 ? `${value.slice(0, 40)}…` : value;
}
