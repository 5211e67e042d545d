import { randomFillSync } from 'node:crypto';
import KSUID from 'ksuid';
import type { Mode } from './call.js';

/**
 * Random bytes drawn from the CSPRNG 4 KB at a time and handed out 16 at a time, as Node does for
 * randomUUID: `KSUID.randomSync()` asks the kernel for 16 bytes per id, a system call that was
 * 2% of the gateway's CPU under load (profile, issue 12). Each byte is used once.
 */
const POOL = Buffer.alloc(4096);
let offset = POOL.length;

function randomPayload(): Buffer {
  if (offset + 16 > POOL.length) {
    randomFillSync(POOL);
    offset = 0;
  }
  // A copy: the pool is refilled in place.
  const payload = Buffer.from(POOL.subarray(offset, offset + 16));
  offset += 16;
  return payload;
}

/** KSUIDs: 27 base62 characters, time-ordered to the second, 128 random bits. */
function ksuid(): string {
  return KSUID.fromParts(Date.now(), randomPayload()).string;
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
