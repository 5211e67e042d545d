import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import pg from 'pg';
import { jsonContains } from '../src/domain/filter-match.js';
import { bootGateway, newApp, rawGql, rowCounts, templateUrl, type TestApp, type TestGateway } from './helpers/gateway.js';
import { collect, wsClient } from './helpers/ws.js';

// A small universe of keys and scalars, so random documents and filters often overlap.
const scalar = fc.constantFrom<unknown>(0, 1, 1.5, -2, 'x', 'y', '', true, false, null);
const key = fc.constantFrom('a', 'b', 'c', 'constructor', '__proto__');
const { json } = fc.letrec((tie) => ({
  json: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('array'), tie('object')),
  array: fc.array(tie('json'), { maxLength: 4 }),
  object: fc.dictionary(key, tie('json'), { maxKeys: 3 }),
}));
const objectOf = fc.dictionary(key, json, { maxKeys: 4 });

describe("the in-memory metadata match is PostgreSQL's jsonb @>", () => {
  let client: pg.Client;
  beforeAll(async () => {
    client = new pg.Client({ connectionString: templateUrl() });
    await client.connect();
  });
  afterAll(() => client.end());

  it('gives the same answer as SQL on 4,000 random documents and filters', async () => {
    const pairs = fc.sample(
      fc.tuple(
        objectOf,
        fc.oneof(
          objectOf,
          objectOf.map((o) => o),
        ),
      ),
      { numRuns: 3_000, seed: 8 },
    );
    // Filters taken from the documents themselves, so containment holds often too.
    const derived = fc.sample(
      objectOf.chain((doc) => fc.subarray(Object.keys(doc)).map((keys) => [doc, Object.fromEntries(keys.map((k) => [k, doc[k]]))] as const)),
      { numRuns: 1_000, seed: 9 },
    );
    const all = [...pairs, ...derived] as (readonly [Record<string, unknown>, Record<string, unknown>])[];
    const { rows } = await client.query<{ contains: boolean }>(
      'SELECT a @> b AS contains FROM unnest($1::jsonb[], $2::jsonb[]) WITH ORDINALITY AS t(a, b, n) ORDER BY n',
      [all.map(([doc]) => JSON.stringify(doc)), all.map(([, filter]) => JSON.stringify(filter))],
    );
    let hits = 0;
    all.forEach(([doc, filter], index) => {
      const sql = rows[index]!.contains;
      if (sql) hits++;
      expect(jsonContains(JSON.parse(JSON.stringify(doc)), JSON.parse(JSON.stringify(filter))), `${JSON.stringify(doc)} @> ${JSON.stringify(filter)}`).toBe(
        sql,
      );
    });
    // Both answers are well represented.
    expect(hits).toBeGreaterThan(500);
    expect(all.length - hits).toBeGreaterThan(500);
  });
});

describe('a metadata filter is bounded, on calls and on callStatus', () => {
  let gw: TestGateway;
  let app: TestApp;
  beforeAll(async () => {
    gw = await bootGateway({ simulator: 'frozen' });
    app = await newApp(gw.admin);
  });
  afterAll(() => gw.stop());

  const deep = { a: { b: { c: { d: { e: 1 } } } } };
  const HOSTILE: [string, Record<string, unknown>, RegExp][] = [
    ['too deep', deep, /deep/],
    ['a long array', { tags: Array.from({ length: 17 }, (_, i) => i) }, /items/],
    ['too many keys', Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i])), /keys/],
    ['too large', { blob: 'x'.repeat(1_100) }, /bytes/],
    ['arrays of arrays to compare pairwise', { a: Array.from({ length: 16 }, () => [[[1]]]) }, /deep|bytes/],
  ];

  for (const [name, metadata, message] of HOSTILE) {
    it(`${name}: BAD_USER_INPUT on calls (HTTP) and callStatus (WebSocket), nothing changes`, async () => {
      const before = await rowCounts(gw.database, app.id);
      const listed = await rawGql(gw.url, app.testKey, { query: 'query($f: CallFilter) { calls(filter: $f) { totalCount } }', variables: { f: { metadata } } });
      expect(listed.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(listed.errors?.[0]?.message).toMatch(message);
      const ws = wsClient(gw.wsUrl, app.testKey);
      try {
        const sub = collect(ws, 'subscription($f: CallFilter) { callStatus(filter: $f) { status } }', { f: { metadata } });
        await expect(sub.until(() => false, 5_000)).rejects.toThrow(/BAD_USER_INPUT/);
      } finally {
        await ws.dispose();
      }
      expect(gw.gateway.liveSubscriptions).toBe(0);
      expect(await rowCounts(gw.database, app.id)).toEqual(before);
    });
  }

  it('a filter at the limits is accepted', async () => {
    const metadata = { a: { b: { c: [1, 2] } }, tags: Array.from({ length: 16 }, (_, i) => i) };
    const listed = await rawGql(gw.url, app.testKey, { query: 'query($f: CallFilter) { calls(filter: $f) { totalCount } }', variables: { f: { metadata } } });
    expect(listed.errors).toBeUndefined();
  });
});
