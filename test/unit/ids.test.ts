import { describe, expect, it } from 'vitest';
import KSUID from 'ksuid';
import { looksLikeCallId, newCallId, newEventId } from '../../src/domain/ids.js';

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
});
