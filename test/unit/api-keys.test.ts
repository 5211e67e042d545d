import { describe, expect, it } from 'vitest';
import { generateKey, hashKey, parseKeyMode } from '../../src/domain/api-keys.js';
import { Authenticator } from '../../src/domain/authenticator.js';

describe('API keys carry a checksum', () => {
  it('a generated key parses; every single-character typo of it is refused', () => {
    for (const mode of ['test', 'live'] as const) {
      const { key, hash } = generateKey(mode);
      expect(key).toMatch(new RegExp(`^sk_${mode}_app_[0-9A-Za-z]{32}$`));
      expect(parseKeyMode(key)).toBe(mode);
      expect(hash).toBe(hashKey(key));
      const body = key.length - 32;
      let refused = 0;
      for (let i = body; i < key.length; i++) {
        const typo = key.slice(0, i) + (key[i] === 'a' ? 'b' : 'a') + key.slice(i + 1);
        if (parseKeyMode(typo) === null) refused++;
      }
      expect(refused).toBe(32);
    }
  });

  it('a mistyped key is refused without a database lookup', async () => {
    let lookups = 0;
    const auth = new Authenticator(
      { findActiveKey: async () => (lookups++, { keyId: 'key_app_x', appId: 'app_x', mode: 'test' }), findActiveKeyById: async () => null },
      { ttlMs: 0, maxEntries: 100 },
    );
    const { key } = generateKey('test');
    expect(await auth.authenticate(`Bearer ${key}`)).not.toBeNull();
    expect(lookups).toBe(1);
    expect(await auth.authenticate(`Bearer ${key.slice(0, -1)}${key.endsWith('x') ? 'y' : 'x'}`)).toBeNull();
    expect(await auth.authenticate(`Bearer sk_test_app_${'a'.repeat(32)}`)).toBeNull();
    expect(lookups).toBe(1);
  });
});
