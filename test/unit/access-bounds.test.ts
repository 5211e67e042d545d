import { describe, expect, it, vi } from 'vitest';
import { AccessScope, AccessTokens } from '../../src/domain/access-tokens.js';
import { parseAccessTokenKeys } from '../../src/shared/access-token-keys.js';
import { Authenticator } from '../../src/domain/authenticator.js';
import { CorsPolicy } from '../../src/server/cors.js';

// The hostile inputs of issue 16, bounded: made-up origins and forged tokens cost at most one
// lookup each (none for implausible ones), and cannot push the genuine ones out of the caches.
describe('CORS caches under a flood of made-up origins', () => {
  it('remembers at most maxEntries origins, keeps answering the allowed one, and looks up nothing for an implausible Origin', async () => {
    let lookups = 0;
    const store = {
      anyAllows: async (origin: string) => (lookups++, origin === 'https://app.example'),
      originsOf: async () => (lookups++, ['https://app.example']),
    };
    const cors = new CorsPolicy(store, { ttlMs: 60_000, maxEntries: 10 });
    expect(await cors.anyAllows('https://app.example', '10.0.0.1')).toBe(true);
    expect(await cors.appAllows('app_1', 'https://app.example')).toBe(true);
    for (let i = 0; i < 1_000; i++) expect(await cors.anyAllows(`https://x${i}.example`, `10.0.${i >> 8}.${i & 255}`)).toBe(false);
    expect(lookups).toBe(1_002);
    // The per-application cache is separate: the flood did not touch it.
    expect(await cors.appAllows('app_1', 'https://app.example')).toBe(true);
    expect(lookups).toBe(1_002);
    for (const junk of ['x'.repeat(10_000), 'null', 'javascript:alert(1)', 'https://a.example/path', 'https://a b.example']) {
      expect(await cors.anyAllows(junk, '10.0.0.1')).toBe(false);
    }
    expect(lookups).toBe(1_002);
  });

  it('looks up at most missesPerMinute unknown origins per address in a minute; remembered answers and other addresses are unaffected', async () => {
    let lookups = 0;
    const store = { anyAllows: async (origin: string) => (lookups++, origin.endsWith('.allowed')), originsOf: async () => [] };
    const cors = new CorsPolicy(store, { ttlMs: 60_000, maxEntries: 100, missesPerMinute: 3 });
    expect(await cors.anyAllows('https://a.allowed', '10.0.0.1')).toBe(true);
    for (let i = 0; i < 1_000; i++) expect(await cors.anyAllows(`https://x${i}.example`, '10.0.0.1')).toBe(false);
    expect(lookups).toBe(4);
    expect(await cors.anyAllows('https://b.allowed', '10.0.0.1')).toBe(false);
    expect(await cors.anyAllows('https://a.allowed', '10.0.0.1')).toBe(true);
    expect(lookups).toBe(4);
    expect(await cors.anyAllows('https://b.allowed', '10.0.0.2')).toBe(true);
    expect(lookups).toBe(5);
  });

  it("forgets an address's misses a minute after the first", async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      let lookups = 0;
      const store = { anyAllows: async (origin: string) => (lookups++, origin.endsWith('.allowed')), originsOf: async () => [] };
      const cors = new CorsPolicy(store, { ttlMs: 60_000, maxEntries: 100, missesPerMinute: 2 });
      expect(await cors.anyAllows('https://x1.example', '10.0.0.1')).toBe(false);
      vi.advanceTimersByTime(30_000);
      expect(await cors.anyAllows('https://x2.example', '10.0.0.1')).toBe(false);
      expect(await cors.anyAllows('https://b.allowed', '10.0.0.1')).toBe(false);
      expect(lookups).toBe(2);
      vi.advanceTimersByTime(30_001);
      expect(await cors.anyAllows('https://b.allowed', '10.0.0.1')).toBe(true);
      expect(lookups).toBe(3);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('forged access tokens', () => {
  it('cost no key lookup: a bad signature, an unknown kid, an oversized or malformed token are refused locally', async () => {
    const keys = parseAccessTokenKeys(`k1:${'a'.repeat(40)}`);
    const tokens = new AccessTokens(keys);
    let lookups = 0;
    const authenticator = new Authenticator(
      {
        findActiveKey: async () => (lookups++, null),
        findActiveKeyById: async (keyId) => (lookups++, { keyId, appId: 'app_1', mode: 'test' }),
      },
      { ttlMs: 60_000, maxEntries: 100, tokens },
    );
    const genuine = (await tokens.issue({ appId: 'app_1', mode: 'test', keyId: 'key_1' }, { scopes: [AccessScope.CALLS_READ] })).token;
    const other = new AccessTokens(parseAccessTokenKeys(`k1:${'b'.repeat(40)}`));
    const unknownKid = new AccessTokens(parseAccessTokenKeys(`k7:${'a'.repeat(40)}`));
    for (let i = 0; i < 200; i++) {
      const forged = (await other.issue({ appId: 'app_1', mode: 'test', keyId: `key_${i}` }, { scopes: [AccessScope.CALLS_READ] })).token;
      expect(await authenticator.authenticate(`Bearer ${forged}`)).toBeNull();
      const unknown = (await unknownKid.issue({ appId: 'app_1', mode: 'test', keyId: `key_${i}` }, { scopes: [AccessScope.CALLS_READ] })).token;
      expect(await authenticator.authenticate(`Bearer ${unknown}`)).toBeNull();
    }
    expect(await authenticator.authenticate(`Bearer eyJ${'a'.repeat(5_000)}.b.c`)).toBeNull();
    expect(await authenticator.authenticate('Bearer eyJ.not a token')).toBeNull();
    expect(lookups).toBe(0);
    // The genuine one: one lookup of its key, then remembered.
    const principal = await authenticator.authenticate(`Bearer ${genuine}`);
    expect(principal).toMatchObject({ appId: 'app_1', mode: 'test', keyId: 'key_1', scope: null });
    expect([...principal!.token!.scopes]).toEqual([AccessScope.CALLS_READ]);
    await authenticator.authenticate(`Bearer ${genuine}`);
    expect(lookups).toBe(1);
  });
});
