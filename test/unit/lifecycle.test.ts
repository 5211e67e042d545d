import { describe, expect, it } from 'vitest';
import { CallStatus } from '../../src/domain/call.js';
import { APPLIES_FROM, RANK, TRANSITIONS, canMove, defaultEndReason, isTerminal } from '../../src/domain/call-status-rules.js';
import { jsonContains } from '../../src/domain/filter-match.js';

const ALL = Object.values(CallStatus);

describe('the status lifecycle', () => {
  it('every allowed transition moves forward in rank', () => {
    for (const from of ALL) for (const to of TRANSITIONS[from]) expect(RANK[to]).toBeGreaterThan(RANK[from]);
  });

  it('terminal statuses go nowhere; nothing moves back or stays', () => {
    for (const from of ALL) {
      for (const to of ALL) {
        if (isTerminal(from) || RANK[to] <= RANK[from]) expect(canMove(from, to)).toBe(false);
      }
    }
  });

  it('late callbacks may skip states, but only along the table', () => {
    expect(canMove(CallStatus.RINGING, CallStatus.COMPLETED)).toBe(true); // IN_PROGRESS was lost
    expect(canMove(CallStatus.INITIATED, CallStatus.NO_ANSWER)).toBe(true); // RINGING was lost
    expect(canMove(CallStatus.IN_PROGRESS, CallStatus.BUSY)).toBe(false);
    expect(canMove(CallStatus.IN_PROGRESS, CallStatus.CANCELED)).toBe(false);
    expect(canMove(CallStatus.VOICEMAIL, CallStatus.NO_ANSWER)).toBe(false);
    expect([...APPLIES_FROM[CallStatus.RINGING]]).toEqual([CallStatus.INITIATED]);
  });

  it('names the end reasons of the contract', () => {
    expect(defaultEndReason(CallStatus.IN_PROGRESS, CallStatus.COMPLETED)).toBe('hangup');
    expect(defaultEndReason(CallStatus.VOICEMAIL, CallStatus.COMPLETED)).toBe('voicemail');
    expect(defaultEndReason(CallStatus.RINGING, CallStatus.NO_ANSWER)).toBe('no_answer');
    expect(defaultEndReason(CallStatus.INITIATED, CallStatus.BUSY)).toBe('busy');
    expect(defaultEndReason(CallStatus.RINGING, CallStatus.IN_PROGRESS)).toBeNull();
  });
});

describe('jsonContains (live filters) means what jsonb @> means', () => {
  it.each<[unknown, unknown, boolean]>([
    [{ a: 1, b: 2 }, { a: 1 }, true],
    [{ a: 1 }, { a: 1, b: 2 }, false],
    [{ a: { b: { c: 1, d: 2 } } }, { a: { b: { c: 1 } } }, true],
    [{ tags: ['x', 'y', 'z'] }, { tags: ['z', 'x'] }, true],
    [{ tags: ['x'] }, { tags: ['x', 'q'] }, false],
    [{ a: '1' }, { a: 1 }, false],
    [{ a: null }, { a: null }, true],
    [{ a: [{ b: 1, c: 2 }] }, { a: [{ b: 1 }] }, true],
    [{}, {}, true],
  ])('%j @> %j is %s', (container, contained, expected) => {
    expect(jsonContains(container, contained)).toBe(expected);
  });
});
