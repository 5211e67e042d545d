import { randomFillSync } from 'node:crypto';
import type { Mode } from './call.js';

/**
 * Random bytes drawn from the CSPRNG 4 KB at a time and handed out 16 at a time, as Node does for
 * randomUUID: `KSUID.randomSync()` asks the kernel for 16 bytes per id, a system call that was
 * 2% of the gateway's CPU under load (profile, issue 12). Each byte is used once.
 */
const POOL = Buffer.alloc(4096);
let offset = POOL.length;

/** The offset in POOL of 16 bytes no id has used. */
function randomOffset(): number {
  if (offset + 16 > POOL.length) {
    randomFillSync(POOL);
    offset = 0;
  }
  const at = offset;
  offset += 16;
  return at;
}

/** KSUID's epoch (2014-05-13T16:53:20Z) in ms; its timestamp is whole seconds since, a uint32. */
const KSUID_EPOCH_MS = 14e11;
const BASE62 = Buffer.from('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', 'latin1');
const WORDS = new Uint32Array(5);
const DIGITS = Buffer.alloc(27);

/**
 * A KSUID's 27 characters: the 20 bytes (4 of timestamp, 16 of payload) as one big-endian
 * 160-bit number in base 62, zero-padded, as the `ksuid` package encodes them
 * (test/unit/ids.test.ts compares the two on random and extreme inputs). Written here because
 * the package builds an object, a WeakMap entry, a property getter, two buffers and a generic
 * base conversion per id: 35 µs of each createCall's CPU for its two ids (bench profile, issue 26).
 * Long division over five 32-bit words: each step's dividend is below 62 × 2³², exact in a double.
 */
export function encodeKsuid(timeMs: number, payload: Buffer, at = 0): string {
  WORDS[0] = Math.floor((timeMs - KSUID_EPOCH_MS) / 1e3);
  for (let word = 1; word < 5; word++) WORDS[word] = payload.readUInt32BE(at + (word - 1) * 4);
  for (let digit = 26; digit >= 0; digit--) {
    let remainder = 0;
    for (let word = 0; word < 5; word++) {
      const dividend = remainder * 4294967296 + WORDS[word]!;
      const quotient = Math.floor(dividend / 62);
      WORDS[word] = quotient;
      remainder = dividend - quotient * 62;
    }
    DIGITS[digit] = BASE62[remainder]!;
  }
  return DIGITS.toString('latin1');
}

/** KSUIDs: 27 base62 characters, time-ordered to the second, 128 random bits. */
export function ksuid(): string {
  const at = randomOffset();
  return encodeKsuid(Date.now(), POOL, at);
}

export const newAppId = (): string => `app_${ksuid()}`;
export const newKeyId = (): string => `key_app_${ksuid()}`;
export const newNumberId = (): string => `num_${ksuid()}`;
export const newEventId = (): string => `evt_${ksuid()}`;
export const newCallId = (mode: Mode): string => (mode === 'test' ? `call_test_${ksuid()}` : `call_${ksuid()}`);

/** Cheap shape check before any database lookup of a call id. */
export function looksLikeCallId(id: string): boolean {
  return /^call_(test_)?[0-9A-Za-z]{27}$/.test(id);
}
export const newCommandId = (): string => `cmd_${ksuid()}`;
export const newRecordingId = (): string => `rec_${ksuid()}`;
export function looksLikeRecordingId(id: string): boolean {
  return /^rec_[0-9A-Za-z]{27}$/.test(id);
}
