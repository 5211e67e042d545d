import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import KSUID from 'ksuid';
import { encodeKsuid, looksLikeCallId, newCallId, newEventId } from '../../src/domain/ids.js';

/** The reference: the `ksuid` package's own encoding of the same time and payload. */
const reference = (timeMs: number, payload: Buffer) => KSUID.fromParts(timeMs, payload).string;
const EPOCH_MS = 14e11;
const MAX_MS = 1e3 * (2 ** 32 - 1) + EPOCH_MS;

describe('ids', () => {
  it('10,000 ids (many refills of the random pool) are distinct, well-formed KSUIDs stamped with now', () => {
    const started = Math.floor(Date.now() / 1000) * 1000;
    const ids = Array.from({ length: 10_000 }, (_, i) => (i % 2 ? newCallId('test') : newEventId()));
    expect(new Set(ids).size).toBe(10_000);
    for (const id of ids.filter((_, i) => i % 2)) expect(looksLikeCallId(id)).toBe(true);
    const parsed = KSUID.parse(ids[0]!.replace(/^evt_/, ''));
    expect(parsed.date.getTime()).toBeGreaterThanOrEqual(started);
    expect(parsed.date.getTime()).toBeLessThanOrEqual(Date.now());
    // No two payloads share bytes: each 16-byte slice of the pool is used once.
    const payloads = new Set(ids.map((id) => KSUID.parse(id.slice(-27)).payload.toString('hex')));
    expect(payloads.size).toBe(10_000);
  });

  it('encodes exactly as the ksuid package, on random times and payloads', () => {
    fc.assert(
      fc.property(fc.integer({ min: EPOCH_MS, max: MAX_MS }), fc.uint8Array({ minLength: 16, maxLength: 16 }), (timeMs, bytes) => {
        const payload = Buffer.from(bytes);
        expect(encodeKsuid(timeMs, payload)).toBe(reference(timeMs, payload));
      }),
      { numRuns: 5_000 },
    );
  });

  it('encodes exactly as the ksuid package at the extremes, and reads the payload at an offset', () => {
    const cases: [number, Buffer][] = [
      [EPOCH_MS, Buffer.alloc(16, 0)],
      [EPOCH_MS, Buffer.alloc(16, 0xff)],
      [MAX_MS, Buffer.alloc(16, 0xff)],
      [MAX_MS, Buffer.alloc(16, 0)],
      [EPOCH_MS + 999, Buffer.from('000000000000000000000000000000ff', 'hex')],
      [Date.now(), Buffer.from('8000000000000000000000000000000f', 'hex')],
    ];
    for (const [timeMs, payload] of cases) expect(encodeKsuid(timeMs, payload)).toBe(reference(timeMs, payload));
    const pool = Buffer.concat([Buffer.alloc(7, 0xab), Buffer.from('0123456789abcdef0123456789abcdef', 'hex'), Buffer.alloc(9, 0xcd)]);
    expect(encodeKsuid(EPOCH_MS + 5_000, pool, 7)).toBe(reference(EPOCH_MS + 5_000, pool.subarray(7, 23)));
    // The largest KSUID, as the format documents it.
    expect(encodeKsuid(MAX_MS, Buffer.alloc(16, 0xff))).toBe('aWgEPTl1tmebfsQzFP4bxwgy80V');
  });
});
