import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import pino from 'pino';
import { REDACT, jsonLogger, redactionChangesNothing } from '../../src/server/logger.js';

/**
 * The logger skips pino's redaction pass for fields it would not change (server/logger.ts). The
 * reference is the logger that always redacts: the same pino options, redaction on every line.
 * Both must write the same line for any fields (the time aside, which each takes when it writes).
 */
function reference(base: Record<string, unknown>, out: string[]) {
  const logger = pino(
    {
      base,
      level: 'info',
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    { write: (line: string) => void out.push(line) },
  );
  return (message: string, fields?: Record<string, unknown>) => logger.warn(fields ?? {}, message);
}

const withoutTime = (line: string) => line.replace(/,"time":"[^"]*"/, '');

/** Names the redaction paths reach, and others. */
const name = fc.constantFrom(
  'authorization',
  'secret',
  'apiKey',
  'key',
  'token',
  'headers',
  'requestId',
  'appId',
  'operation',
  'error',
  'keyId',
  'tokens',
  'x',
);
const leaf = fc.oneof(fc.string(), fc.integer(), fc.double({ noNaN: true }), fc.boolean(), fc.constant(null), fc.constant(undefined));
const value = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(name, tie('value'), { maxKeys: 4, noNullPrototype: true }),
  ),
})).value;
const fields = fc.dictionary(name, value, { maxKeys: 6, noNullPrototype: true });

describe('the logger', () => {
  it('writes what the always-redacting logger writes, for any fields', () => {
    fc.assert(
      fc.property(fields, fc.option(fc.dictionary(name, leaf, { maxKeys: 2, noNullPrototype: true }), { nil: undefined }), (fields, base) => {
        const ours: string[] = [];
        const theirs: string[] = [];
        jsonLogger(base ?? {}, { write: (line) => void ours.push(line) }).warn('message', fields);
        reference(base ?? {}, theirs)('message', fields);
        expect(ours.map(withoutTime)).toEqual(theirs.map(withoutTime));
      }),
      { numRuns: 3_000 },
    );
  });

  it('skips the pass only where it changes nothing, and writes the time as pino does', () => {
    expect(redactionChangesNothing({ requestId: 'r', durationMs: 1, errorCodes: undefined })).toBe(true);
    expect(redactionChangesNothing({ errorCodes: ['BAD_USER_INPUT'] })).toBe(false);
    expect(redactionChangesNothing({ token: 'x' })).toBe(false);
    const out: string[] = [];
    const before = Date.now();
    jsonLogger({}, { write: (line) => void out.push(line) }).info('message');
    const { time } = JSON.parse(out[0]!) as { time: string };
    expect(time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.parse(time)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(time)).toBeLessThanOrEqual(Date.now());
  });

  it('blanks keys and secrets wherever a caller puts them', () => {
    const out: string[] = [];
    const logger = jsonLogger({}, { write: (line: string) => void out.push(line) });
    logger.error('oops', {
      authorization: 'Bearer sk_test_app_secretsecret',
      headers: { authorization: 'Bearer x' },
      endpoint: { secret: 'whsec_abc' },
      apiKey: 'KEY123',
      key: 'k',
    });
    expect(JSON.parse(out[0]!)).toMatchObject({
      authorization: '[redacted]',
      headers: { authorization: '[redacted]' },
      endpoint: { secret: '[redacted]' },
      apiKey: '[redacted]',
      key: '[redacted]',
    });
    // A base with a secret in it: every line goes through the redaction pass.
    jsonLogger({ token: 't' }, { write: (line: string) => void out.push(line) }).info('plain', { requestId: 'r' });
    expect(JSON.parse(out[1]!)).toMatchObject({ token: '[redacted]', requestId: 'r' });
  });
});
