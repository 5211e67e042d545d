import { describe, expect, it } from 'vitest';
import { isClientIdentity, isPossibleE164 } from '../../src/domain/addresses.js';

describe('isPossibleE164', () => {
  // +6834001: Niue, 4 digits after the country code; +6901234: Tokelau; +2901234: Saint Helena.
  it.each(['+15551234567', '+15005550001', '+447700900123', '+4915112345678', '+33612345678', '+61412345678', '+6834001', '+6901234', '+2901234'])(
    'accepts %s',
    (value) => {
      expect(isPossibleE164(value)).toBe(true);
    },
  );
  it.each([
    '15551234567', // no +
    '+1 555 123 4567', // spaces
    '+1-555-123-4567', // dashes
    '+1555123', // too short for +1
    '+1555123456789012', // 16 digits
    '+05551234567', // country code cannot start with 0
    '+683400', // too short for Niue
    '+1234', // too short for any country
    '+4477009001234567', // too long for +44
    '',
    '+',
  ])('refuses %j', (value) => {
    expect(isPossibleE164(value)).toBe(false);
  });
});

describe('isClientIdentity', () => {
  it.each(['a', 'alice', 'agent-42@support.example', 'x:y_z.w', 'a'.repeat(128)])('accepts %j', (value) => {
    expect(isClientIdentity(value)).toBe(true);
  });
  it.each(['', 'a'.repeat(129), 'has space', 'émile', 'semi;colon', 'slash/'])('refuses %j', (value) => {
    expect(isClientIdentity(value)).toBe(false);
  });
});
