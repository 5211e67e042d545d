import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { flatString } from '../../src/shared/flat-string.js';

describe('flatString', () => {
  it('returns the same text for any JSON.stringify output and any well-formed string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        // JSON.stringify escapes lone surrogates, so its output is always well-formed.
        const json = `{"id":${JSON.stringify(text)},"type":"next","payload":`;
        expect(flatString(json)).toBe(json);
        // A well-formed string (no lone surrogate) comes back as it went.
        if (!/\p{Surrogate}/u.test(text)) expect(flatString(text)).toBe(text);
      }),
      { numRuns: 2_000 },
    );
  });
});
