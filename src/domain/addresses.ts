import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { Channel, isPhoneChannel } from './call.js';
import { UserErrorCode, userError, type UserError } from './errors.js';

/** E.164 as the contract spells it: '+', then 8 to 15 digits, no spaces or dashes. */
const E164_SHAPE = /^\+[1-9]\d{7,14}$/;
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
    if (possibleCache.size >= POSSIBLE_CACHE_SIZE) possibleCache.delete(possibleCache.keys().next().value!);
    possibleCache.set(value, possible);
  }
  return possible;
}

/**
 * libphonenumber tries every region of a shared country code (+1: 25 NANP regions) per parse,
 * ≈23 µs; the same numbers recur (an application's own numbers, frequent destinations), so the
 * answers are kept, oldest evicted first. A pure function of its input: nothing to invalidate.
 */
const POSSIBLE_CACHE_SIZE = 10_000;
const possibleCache = new Map<string, boolean>();

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
          `"${truncate(value)}" is not a possible E.164 phone number (+, country code, 8 to 15 digits, no spaces) for channel ${channel.toUpperCase()}`,
        );
  }
  return isClientIdentity(value)
    ? null
    : userError(UserErrorCode.INVALID_ADDRESS, field, `"${truncate(value)}" is not a WebRTC client identity (1 to 128 characters of A-Z a-z 0-9 _ - . : @)`);
}

function truncate(value: string): string {
  return value.length > 40 ? `${value.slice(0, 40)}…` : value;
}
