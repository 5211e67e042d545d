import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isoDateTime } from '../../src/shared/iso-date.js';

describe('isoDateTime: the text of Date#toJSON', () => {
  it('on every representable date, and around the edges of four-digit years, days and eras', () => {
    const edges = [-62_167_219_200_000, 253_402_300_799_999, 0, -1, 951_782_400_000, 951_868_799_999, 4_107_542_400_000, -2_203_891_200_000];
    const times = fc.oneof(
      fc.integer({ min: -8.64e15, max: 8.64e15 }),
      fc.integer({ min: -62_167_219_200_000 - 1e6, max: 253_402_300_799_999 + 1e6 }),
      fc.constantFrom(...edges).chain((edge) => fc.integer({ min: edge - 90_000_000, max: edge + 90_000_000 })),
    );
    fc.assert(
      fc.property(times, (ms) => {
        const date = new Date(ms);
        expect(isoDateTime(date)).toBe(date.toJSON());
      }),
      { numRuns: 20_000 },
    );
  });

  it('null for an invalid date, as toJSON', () => {
    expect(isoDateTime(new Date(Number.NaN))).toBeNull();
    expect(isoDateTime(new Date('2026-12-07T22:22:18.618Z'))).toBe('2026-12-07T22:22:18.618Z');
  });
});
