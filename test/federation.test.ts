import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'graphql';
import { composeServices } from '@apollo/composition';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { ApolloGateway, LocalGraphQLDataSource, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { bootGateway, newApp, rawGql, type TestApp, type TestGateway } from './helpers/gateway.js';
import { wsClient, wsRequest } from './helpers/ws.js';

// FEDERATION=1: the gateway as the calls subgraph of a supergraph. A second subgraph, written here
// (customers, extending Call with `customer` from metadata.customerId), is composed with it by
// @apollo/composition, and @apollo/gateway (the router's JavaScript sibling) plans queries across
// both, forwarding the client's authorization header to the calls subgraph over HTTP.
let gw: TestGateway;
let app: TestApp;
let other: TestApp;
let server: ApolloServer<{ authorization: string }>;
let ours: string;
let theirs: string;

const CUSTOMERS = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@external", "@requires"])
  scalar JSONObject
  type Customer { id: ID! name: String! lastCall: Call }
  type Call @key(fields: "id") { id: ID! metadata: JSONObject! @external customer: Customer @requires(fields: "metadata") }
  type Query { customer(id: ID!): Customer }
`);
const NAMES: Record<string, string> = { c1: 'Ada', c2: 'Grace' };

async function place(key: string, from: string, customerId: string): Promise<string> {
  const answer = await rawGql(gw.url, key, {
    query: `mutation($input: CreateCallInput!) { createCall(input: $input) { call { id } } }`,
    variables: { input: { from, to: '+15005550006', metadata: { customerId } } },
  });
  return answer.data.createCall.call.id as string;
}

beforeAll(async () => {
  gw = await bootGateway({ simulator: 'frozen', env: { FEDERATION: '1', ACCESS_TOKEN_KEYS: `k1:${'f'.repeat(40)}` } });
  app = await newApp(gw.admin, 'federated');
  other = await newApp(gw.admin, 'neighbour');
  ours = await place(app.testKey, app.number, 'c1');
  theirs = await place(other.testKey, other.number, 'c2');
  const customers = buildSubgraphSchema({
    typeDefs: CUSTOMERS,
    resolvers: {
      Query: { customer: (_root: unknown, { id }: { id: string }) => (NAMES[id] ? { id, name: NAMES[id] } : null) },
      // c1's last call is ours; c2's is the other application's.
      Customer: { lastCall: ({ id }: { id: string }) => ({ __typename: 'Call', id: id === 'c1' ? ours : theirs }) },
      Call: {
        customer: ({ metadata }: { metadata?: { customerId?: string } }) => {
          const id = metadata?.customerId;
          return id && NAMES[id] ? { id, name: NAMES[id] } : null;
        },
      },
    } as never,
  });
  const sdl = readFileSync(new URL('../schema/subgraph.graphql', import.meta.url), 'utf8');
  const composed = composeServices([
    { name: 'calls', typeDefs: parse(sdl), url: gw.url },
    { name: 'customers', typeDefs: CUSTOMERS, url: 'http://customers.local/graphql' },
  ]);
  expect(composed.errors ?? []).toEqual([]);
  const gateway = new ApolloGateway({
    supergraphSdl: composed.supergraphSdl!,
    buildService: ({ name, url }) =>
      name === 'customers'
        ? new LocalGraphQLDataSource(customers)
        : new RemoteGraphQLDataSource<{ authorization: string }>({
            url,
            // What a router does when told to forward `authorization` to this subgraph.
            willSendRequest: ({ request, context }) => void request.http!.headers.set('authorization', context.authorization),
          }),
  });
  server = new ApolloServer({ gateway });
  await server.start();
}, 60_000);
afterAll(async () => {
  await server?.stop();
  await gw?.stop();
});

async function supergraph(query: string, key: string) {
  const response = await server.executeOperation({ query }, { contextValue: { authorization: `Bearer ${key}` } });
  if (response.body.kind !== 'single') throw new Error('expected a single result');
  return response.body.singleResult;
}

describe('FEDERATION=1: the calls subgraph in a supergraph', () => {
  it('a query joining both subgraphs: calls with their customer, a customer with its last call', async () => {
    const joined = await supergraph(`{ calls(first: 10) { nodes { id status customer { name } } } }`, app.testKey);
    expect(joined.errors).toBeUndefined();
    expect(joined.data).toEqual({ calls: { nodes: [{ id: ours, status: 'INITIATED', customer: { name: 'Ada' } }] } });
    const reference = await supergraph(`{ customer(id: "c1") { name lastCall { id status fromAddress } } }`, app.testKey);
    expect(reference.errors).toBeUndefined();
    expect(reference.data).toEqual({ customer: { name: 'Ada', lastCall: { id: ours, status: 'INITIATED', fromAddress: app.number } } });
  });

  it("isolation holds through the router: another application's call resolves to null, and so does a call of the other mode", async () => {
    const foreign = await supergraph(`{ customer(id: "c2") { name lastCall { id status } } }`, app.testKey);
    expect(foreign.data).toEqual({ customer: { name: 'Grace', lastCall: null } });
    // The same call for its own application's key.
    const own = await supergraph(`{ customer(id: "c2") { lastCall { id status } } }`, other.testKey);
    expect(own.data).toEqual({ customer: { lastCall: { id: theirs, status: 'INITIATED' } } });
    // A live key of the same application sees no test call. (A selection of the key alone is
    // answered by the router from the reference, without asking this subgraph: it says nothing.)
    const otherMode = await supergraph(`{ customer(id: "c1") { lastCall { id status } } }`, app.liveKey);
    expect(otherMode.data).toEqual({ customer: { lastCall: null } });
  });

  it("an access token's filter and scopes hold through the router", async () => {
    const mint = async (input: Record<string, unknown>) =>
      (
        await rawGql(gw.url, app.testKey, {
          query: `mutation($input: CreateAccessTokenInput!) { createAccessToken(input: $input) { token } }`,
          variables: { input },
        })
      ).data.createAccessToken.token as string;
    const c1 = await mint({ scopes: ['CALLS_READ'], filter: { metadata: { customerId: 'c1' } } });
    const c9 = await mint({ scopes: ['CALLS_READ'], filter: { metadata: { customerId: 'c9' } } });
    const statusOnly = await mint({ scopes: ['STATUS_SUBSCRIBE'] });
    const query = `{ customer(id: "c1") { lastCall { id status } } }`;
    expect((await supergraph(query, c1)).data).toEqual({ customer: { lastCall: { id: ours, status: 'INITIATED' } } });
    expect((await supergraph(query, c9)).data).toEqual({ customer: { lastCall: null } });
    const refused = await supergraph(query, statusOnly);
    expect(refused.data).toEqual({ customer: { lastCall: null } });
    expect(JSON.stringify(refused.errors)).toMatch(/CALLS_READ/);
  });

  it('the subgraph itself: _service answers the committed SDL, _entities over HTTP and WebSocket, bounded', async () => {
    const service = await rawGql(gw.url, app.testKey, { query: '{ _service { sdl } }' });
    expect(service.data._service.sdl).toBe(readFileSync(new URL('../schema/subgraph.graphql', import.meta.url), 'utf8'));
    const ENTITIES = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Call { id status } } }`;
    const representations = [
      { __typename: 'Call', id: ours },
      { __typename: 'Call', id: theirs },
      { __typename: 'Customer', id: 'c1' },
    ];
    const overHttp = await rawGql(gw.url, app.testKey, { query: ENTITIES, variables: { r: representations } });
    expect(overHttp.data).toEqual({ _entities: [{ id: ours, status: 'INITIATED' }, null, null] });
    const client = wsClient(gw.wsUrl, app.testKey);
    try {
      expect((await wsRequest(client, ENTITIES, { r: representations })).data).toEqual(overHttp.data);
    } finally {
      await client.dispose();
    }
    const tooMany = await rawGql(gw.url, app.testKey, { query: ENTITIES, variables: { r: Array(501).fill({ __typename: 'Call', id: ours }) } });
    expect(tooMany.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});
