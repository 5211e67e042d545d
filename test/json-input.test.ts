import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootGateway, newApp, rawGql, rowCounts, type TestApp, type TestGateway } from './helpers/gateway.js';
import { connectRaw } from './helpers/ws.js';

// JSON input (createCall's metadata, CallFilter.metadata, a token's filter) is a value a client
// chooses whole: its keys are kept as they are given, and its depth is bounded before anything
// walks it, in document literals and in variables alike.
let gw: TestGateway;
let app: TestApp;
beforeAll(async () => {
  gw = await bootGateway({ simulator: 'frozen', env: { ACCESS_TOKEN_KEYS: `k1:${'j'.repeat(40)}` } });
  app = await newApp(gw.admin);
  for (const metadata of [{ customerId: 'c1' }, { customerId: 'c2' }]) {
    const created = await rawGql(gw.url, app.testKey, {
      query: 'mutation($input: CreateCallInput!) { createCall(input: $input) { userErrors { code } } }',
      variables: { input: { from: app.number, to: '+15005550006', metadata } },
    });
    expect(created.data.createCall.userErrors).toEqual([]);
  }
});
afterAll(() => gw?.stop());

const LIST = (filter: string) => `{ calls(first: 10, filter: { metadata: ${filter} }) { nodes { metadata } } }`;

describe('__proto__ is a key like any other', () => {
  it('an inline metadata filter {__proto__: …} matches only calls that have that key (none here), as the same filter in variables does', async () => {
    const inline = await rawGql(gw.url, app.testKey, { query: LIST('{ __proto__: { customerId: "c1" } }') });
    expect(inline.errors).toBeUndefined();
    expect(inline.data.calls.nodes).toEqual([]);
    const viaVariables = await rawGql(gw.url, app.testKey, {
      query: 'query($m: JSONObject) { calls(first: 10, filter: { metadata: $m }) { nodes { metadata } } }',
      variables: JSON.parse('{"m": {"__proto__": {"customerId": "c1"}}}'),
    });
    expect(viaVariables.data.calls.nodes).toEqual([]);
    // The control: a plain key still narrows.
    expect((await rawGql(gw.url, app.testKey, { query: LIST('{ customerId: "c1" }') })).data.calls.nodes).toEqual([{ metadata: { customerId: 'c1' } }]);
  });

  it('a token minted with an inline {__proto__: …} filter is restricted by it', async () => {
    const minted = await rawGql(gw.url, app.testKey, {
      query:
        'mutation { createAccessToken(input: { scopes: [CALLS_READ], filter: { metadata: { __proto__: { customerId: "c1" } } } }) { token userErrors { code } } }',
    });
    expect(minted.errors).toBeUndefined();
    const token = minted.data.createAccessToken.token as string;
    expect((await rawGql(gw.url, token, { query: '{ calls(first: 10) { nodes { id } } }' })).data.calls.nodes).toEqual([]);
  });

  it('createCall keeps a metadata key __proto__ as data', async () => {
    const created = await rawGql(gw.url, app.testKey, {
      query: `mutation { createCall(input: { from: "${app.number}", to: "+15005550006", metadata: { __proto__: { a: 1 } } }) { call { metadata } } }`,
    });
    expect(JSON.stringify(created.data.createCall.call.metadata)).toBe('{"__proto__":{"a":1}}');
  });
});

describe('deeply nested JSON is refused before anything walks it', () => {
  /** `{"a":{"a":…1…}}`, `levels` deep, as text: JSON.stringify itself recurses, and would overflow here first. */
  const deep = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
  const post = async (query: string, variables: string) => {
    const response = await fetch(gw.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${app.testKey}` },
      body: `{"query":${JSON.stringify(query)},"variables":${variables}}`,
    });
    return { status: response.status, ...((await response.json()) as { errors?: { message: string; extensions?: { code?: string } }[] }) };
  };

  it('createCall metadata, a calls filter and a token filter nested 12,000 deep: BAD_USER_INPUT over HTTP, refused over WebSocket, nothing stored', async () => {
    const before = await rowCounts(gw.database, app.id);
    const create = 'mutation($input: CreateCallInput!) { createCall(input: $input) { call { id } } }';
    const requests: [string, string][] = [
      [create, `{"input":{"from":"${app.number}","to":"+15005550006","metadata":${deep(12_000)}}}`],
      ['query($m: JSONObject) { calls(filter: { metadata: $m }) { nodes { id } } }', `{"m":${deep(12_000)}}`],
      ['mutation($f: CallFilter) { createAccessToken(input: { scopes: [CALLS_READ], filter: $f }) { token } }', `{"f":{"metadata":${deep(12_000)}}}`],
    ];
    for (const [query, variables] of requests) {
      const answer = await post(query, variables);
      expect(answer.status, query).toBe(400);
      expect(answer.errors?.[0]?.extensions?.code, query).toBe('BAD_USER_INPUT');
      expect(answer.errors?.[0]?.message).toMatch(/nested deeper than 32/);
    }
    // Inline in the document: refused as well (the parser, or the scalar at 33 levels).
    const inline = await rawGql(gw.url, app.testKey, { query: `{ calls(filter: { metadata: ${'{a:'.repeat(40)}1${'}'.repeat(40)} }) { nodes { id } } }` });
    expect(inline.status).toBe(400);
    expect(inline.errors?.[0]?.message).toMatch(/nested deeper than 32/);
    // WebSocket: the same, 5,000 deep (a frame is at most WS_MAX_PAYLOAD_BYTES, 64 KiB), sent as text over a raw socket.
    const { socket, acked } = await connectRaw(gw.wsUrl, { authorization: `Bearer ${app.testKey}` });
    expect(acked).toBe(true);
    const answer = new Promise<unknown>((resolve) => {
      socket.on('message', (data) => resolve(JSON.parse(String(data))));
      socket.on('close', (code) => resolve({ closed: code }));
    });
    const variables = `{"input":{"from":"${app.number}","to":"+15005550006","metadata":${deep(5_000)}}}`;
    socket.send(`{"id":"1","type":"subscribe","payload":{"query":${JSON.stringify(create)},"variables":${variables}}}`);
    const frame = await answer;
    socket.close();
    expect(JSON.stringify(frame)).toMatch(/nested deeper than 32/);
    expect(await rowCounts(gw.database, app.id)).toEqual(before);
  });
});
