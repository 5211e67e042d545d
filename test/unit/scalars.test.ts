import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DateTimeResolver } from 'graphql-scalars';
import { DateTimeScalar } from '../../src/graphql/types/scalars.js';

/** What a client receives: the serialized value inside a JSON response. */
const wire = (value: unknown) => JSON.stringify({ at: value });

/** The outcome of serializing: the JSON text, or the error's message. */
function outcome(serialize: (value: unknown) => unknown, input: unknown): string {
  try {
    return wire(serialize(input));
  } catch (error) {
    return `error: ${(error as Error).message}`;
  }
}

describe('DateTime: serialized to its string, the same text as graphql-scalars on the wire', () => {
  it('on any date, ISO string, epoch number and anything else', () => {
    const inputs = fc.oneof(
      fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15) }),
      fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
      fc.integer({ min: -8.64e12, max: 8.64e12 }),
      fc.string(),
      fc.constantFrom(null, undefined, true, {}, [], Number.NaN, new Date(Number.NaN), '2026-12-07T22:22:18Z', '2026-12-07 22:22:18'),
    );
    fc.assert(
      fc.property(inputs, (input) => {
        expect(outcome((value) => DateTimeScalar.serialize(value), input)).toBe(outcome((value) => DateTimeResolver.serialize(value), input));
      }),
      { numRuns: 5_000 },
    );
  });

  it('gives strings, not Dates, and keeps the scalar as the schema declares it', () => {
    expect(DateTimeScalar.serialize(new Date('2026-12-07T22:22:18.618Z'))).toBe('2026-12-07T22:22:18.618Z');
    const { serialize: _ours, ...config } = DateTimeScalar.toConfig();
    const { serialize: _theirs, ...reference } = DateTimeResolver.toConfig();
    expect(config).toEqual(reference);
  });
});
