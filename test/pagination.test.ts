import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootGateway, gql, newApp, rawGql, type GqlResponse, type TestApp, type TestGateway } from './helpers/gateway.js';
import { CountCallsDocument, CreateCallDocument, ListCallsDocument, type ListCallsQuery } from './gql/graphql.js';
import { collect, wsClient } from './helpers/ws.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await bootGateway({ simulator: 'frozen' });
});
afterAll(() => gw.stop());

async function createCalls(app: TestApp, count: number, label: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const { data } = await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+15551234567', metadata: { label, i } } });
    ids.push(data!.createCall.call!.id);
  }
  return ids;
}

describe('calls pagination (keyset cursors on createdAt, id)', () => {
  it('pages forwards newest first, unaffected by calls created between pages', async () => {
    const app = await newApp(gw.admin);
    const initial = await createCalls(app, 7, 'initial');
    const newestFirst = [...initial].reverse();
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const response: GqlResponse<ListCallsQuery> = await gql(gw.url, app.testKey, ListCallsDocument, { first: 3, after });
      const { nodes, pageInfo, edges } = response.data!.calls;
      expect(edges.map((edge) => edge.node.id)).toEqual(nodes.map((node) => node.id));
      seen.push(...nodes.map((node) => node.id));
      expect(pageInfo.hasPreviousPage).toBe(after !== null);
      // New calls arrive between pages: they are newer than the cursor, so they never show up
      // in later pages nor shift them.
      await createCalls(app, 2, `between-${pages++}`);
      if (!pageInfo.hasNextPage) break;
      after = pageInfo.endCursor ?? null;
    }
    expect(seen).toEqual(newestFirst);
    expect(pages).toBe(3);
  });

  it('pages backwards with last/before and returns the same order', async () => {
    const app = await newApp(gw.admin);
    const ids = await createCalls(app, 7, 'x');
    const newestFirst = [...ids].reverse();
    const collected: string[][] = [];
    let before: string | null = null;
    for (;;) {
      const response: GqlResponse<ListCallsQuery> = await gql(gw.url, app.testKey, ListCallsDocument, { last: 3, before });
      const { nodes, pageInfo } = response.data!.calls;
      collected.unshift(nodes.map((node) => node.id));
      expect(pageInfo.hasNextPage).toBe(before !== null);
      await createCalls(app, 1, 'between');
      if (!pageInfo.hasPreviousPage) break;
      before = pageInfo.startCursor ?? null;
    }
    // Newer calls created meanwhile are at the start of the list: the backward walk started at
    // the old end and only goes towards newer calls, so the first page now includes them.
    const flattened = collected.flat();
    expect(flattened.slice(-7)).toEqual(newestFirst);
    expect(collected.at(-1)).toEqual(newestFirst.slice(-3));
  });

  it('orders oldest first with orderBy CREATED_AT ASC, and both cursors bound a window', async () => {
    const app = await newApp(gw.admin);
    const ids = await createCalls(app, 6, 'asc');
    const asc = await gql(gw.url, app.testKey, ListCallsDocument, { orderBy: { field: 'CREATED_AT', direction: 'ASC' }, first: 100 });
    expect(asc.data!.calls.nodes.map((node) => node.id)).toEqual(ids);
    const edges = asc.data!.calls.edges;
    const window = await gql(gw.url, app.testKey, ListCallsDocument, {
      orderBy: { field: 'CREATED_AT', direction: 'ASC' },
      after: edges[0]!.cursor,
      before: edges[4]!.cursor,
      first: 10,
    });
    expect(window.data!.calls.nodes.map((node) => node.id)).toEqual(ids.slice(1, 4));
  });

  it('defaults to 20 newest calls', async () => {
    const app = await newApp(gw.admin);
    const ids = await createCalls(app, 23, 'many');
    const response = await gql(gw.url, app.testKey, ListCallsDocument, {});
    expect(response.data!.calls.nodes.map((node) => node.id)).toEqual([...ids].reverse().slice(0, 20));
    expect(response.data!.calls.pageInfo.hasNextPage).toBe(true);
    const count = await gql(gw.url, app.testKey, CountCallsDocument, {});
    expect(count.data!.calls.totalCount).toBe(23);
  });

  it('refuses page sizes above 100, negative sizes, first with last, and forged cursors with BAD_USER_INPUT', async () => {
    const app = await newApp(gw.admin);
    const cases: [Record<string, unknown>, string][] = [
      [{ first: 101 }, 'first'],
      [{ last: 500 }, 'last'],
      [{ first: -1 }, 'first'],
      [{ first: 2, last: 2 }, 'first'],
      [{ after: 'not-a-cursor' }, 'after'],
      [{ before: Buffer.from('c1|yesterday|call_x').toString('base64url') }, 'before'],
      // Dates JavaScript reads but PostgreSQL cannot hold, or in a form the gateway never writes.
      [{ after: Buffer.from(`c1|-100000-01-01T00:00:00.000Z|call_test_${'A'.repeat(27)}`).toString('base64url') }, 'after'],
      [{ after: Buffer.from(`c1|+275760-09-13T00:00:00.000Z|call_test_${'A'.repeat(27)}`).toString('base64url') }, 'after'],
      [{ after: Buffer.from(`c1|0001-01-01T00:00:00.000Z|call_test_${'A'.repeat(27)}`).toString('base64url') }, 'after'],
      [{ after: Buffer.from(`c1|2026-12-07|call_test_${'A'.repeat(27)}`).toString('base64url') }, 'after'],
    ];
    for (const [variables, argument] of cases) {
      const response = await gql(gw.url, app.testKey, ListCallsDocument, variables);
      expect(response.data).toBeNull();
      expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: argument });
      expect(response.errors?.[0]?.message).toContain(argument);
    }
  });

  it('totalCount runs only when selected', async () => {
    const app = await newApp(gw.admin);
    await createCalls(app, 2, 'count');
    const count = async (query: string) => (await rawGql(gw.url, app.testKey, { query })).statements;
    const without = await count('{ calls(first: 5) { nodes { id } } }');
    const withCount = await count('{ calls(first: 5) { nodes { id } totalCount } }');
    expect(withCount).toBe(without + 1);
  });
});

describe('event cursors', () => {
  it('a cursor whose log position is past PostgreSQL bigint (19 digits) is BAD_USER_INPUT, not an internal error', async () => {
    const app = await newApp(gw.admin);
    const [id] = await createCalls(app, 1, 'cursor');
    for (const position of ['9999999999999999999', '9223372036854775808']) {
      const after = Buffer.from(`e1|${position}|${id}|1`).toString('base64url');
      const client = wsClient(gw.wsUrl, app.testKey);
      try {
        const sub = collect(client, 'subscription($after: String) { callStatus(after: $after) { sequence } }', { after });
        await expect(sub.until(() => false, 5_000)).rejects.toThrow(/BAD_USER_INPUT/);
      } finally {
        await client.dispose();
      }
    }
  });
});
