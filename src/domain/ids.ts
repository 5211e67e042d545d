import KSUID from 'ksuid';
import type { Mode } from './call.js';

/** KSUIDs: 27 base62 characters, time-ordered to the second, 128 random bits. */
function ksuid(): string {
  return KSUID.randomSync().string;
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
