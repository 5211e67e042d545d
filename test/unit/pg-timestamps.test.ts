import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parsedOutcome as outcome, referenceTimestamptz as reference } from '../helpers/timestamps.js';
import { parseTimestamptz } from '../../src/db/pg-timestamps.js';

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** Text in the shape PostgreSQL writes timestamptz in (DateStyle ISO), and near misses of it. */
const timestampText = fc
  .record({
    year: fc.oneof(fc.integer({ min: 1000, max: 9999 }), fc.integer({ min: 0, max: 999 }), fc.integer({ min: 10000, max: 294276 })),
    month: fc.integer({ min: 0, max: 13 }),
    day: fc.integer({ min: 0, max: 32 }),
    hour: fc.integer({ min: 0, max: 24 }),
    minute: fc.integer({ min: 0, max: 60 }),
    second: fc.integer({ min: 0, max: 60 }),
    fraction: fc.option(fc.stringMatching(/^[0-9]{1,8}$/), { nil: undefined }),
    sign: fc.constantFrom('+', '-'),
    offsetHours: fc.integer({ min: 0, max: 15 }),
    offsetMinutes: fc.option(fc.integer({ min: 0, max: 59 }), { nil: undefined }),
    offsetSeconds: fc.option(fc.integer({ min: 0, max: 59 }), { nil: undefined }),
    bc: fc.boolean(),
  })
  .map(
    (t) =>
      `${pad(t.year, 4)}-${pad(t.month, 2)}-${pad(t.day, 2)} ${pad(t.hour, 2)}:${pad(t.minute, 2)}:${pad(t.second, 2)}` +
      `${t.fraction === undefined ? '' : `.${t.fraction}`}${t.sign}${pad(t.offsetHours, 2)}` +
      `${t.offsetMinutes === undefined ? '' : `:${pad(t.offsetMinutes, 2)}${t.offsetSeconds === undefined ? '' : `:${pad(t.offsetSeconds, 2)}`}`}` +
      `${t.bc ? ' BC' : ''}`,
  );

/** The same text with one character changed, dropped or added: what the fast path must hand over, not misread. */
const mangled = fc
  .tuple(timestampText, fc.nat(), fc.constantFrom('', ' ', 'Z', ':', '.', '-', '+', 'x', '0', '9', '٣'), fc.constantFrom('replace', 'insert'))
  .map(([text, at, piece, how]) => {
    const i = at % (text.length + 1);
    return how === 'replace' ? text.slice(0, i) + piece + text.slice(i + 1) : text.slice(0, i) + piece + text.slice(i);
  });

/** PostgreSQL's own output is compared in test/pg-timestamps.test.ts. */
describe('parseTimestamptz: the same Dates as pg’s own parser', () => {
  it('on generated text in PostgreSQL’s shape, and on near misses of it', () => {
    fc.assert(
      fc.property(fc.oneof(timestampText, mangled, fc.constantFrom('infinity', '-infinity', '2026-12-07', '2026-12-07 22:22:18', '')), (text) => {
        expect(outcome(parseTimestamptz(text))).toEqual(outcome(reference(text)));
      }),
      { numRuns: 20_000 },
    );
  });

  it('on every fraction of one to six digits', () => {
    let differing = 0;
    for (let digits = 1; digits <= 6; digits++) {
      for (let n = 0; n < 10 ** digits; n++) {
        const text = `2026-12-08 01:02:03.${String(n).padStart(digits, '0')}+00`;
        if ((parseTimestamptz(text) as Date).getTime() !== (reference(text) as Date).getTime()) differing++;
      }
    }
    expect(differing).toBe(0);
  });
});
