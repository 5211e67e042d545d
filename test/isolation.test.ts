import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootGateway, gql, newApp, type TestApp, type TestGateway } from './helpers/gateway.js';
import { CallEventsDocument, CountCallsDocument, CreateCallDocument, GetCallDocument, GetNodeDocument, ListCallsDocument } from './gql/graphql.js';

let gw: TestGateway;
let apps: TestApp[];
/** Every tenant (app × mode) with its key and the ids of the calls it created. */
let tenants: { name: string; key: string; appId: string; ids: string[] }[];

beforeAll(async () => {
  gw = await bootGateway({ liveProvider: true, simulator: 'frozen' });
  apps = [await newApp(gw.admin, 'A'), await newApp(gw.admin, 'B')];
  tenants = [];
  for (const [index, app] of apps.entries()) {
    for (const mode of ['test', 'live'] as const) {
      const key = mode === 'test' ? app.testKey : app.liveKey;
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const { data } = await gql(gw.url, key, CreateCallDocument, {
          input: { from: app.number, to: '+15551234567', metadata: { shared: 'yes', i }, idempotencyKey: `same-key-${i}` },
        });
        ids.push(data!.createCall.call!.id);
      }
      tenants.push({ name: `${'AB'[index]}/${mode}`, key, appId: app.id, ids });
    }
  }
});
afterAll(() => gw.stop());

describe('isolation: two applications × two modes', () => {
  it('live calls get call_ ids and test calls call_test_ ids', () => {
    for (const tenant of tenants) {
      for (const id of tenant.ids) expect(id).toMatch(tenant.name.endsWith('test') ? /^call_test_/ : /^call_(?!test_)/);
    }
    // The live provider was asked to place exactly the live calls.
    expect(gw.livePlaced.map((call) => call.id).sort()).toEqual(
      tenants
        .filter((t) => t.name.endsWith('live'))
        .flatMap((t) => t.ids)
        .sort(),
    );
  });

  it("call, node and Call.events see only the key's own tenant", async () => {
    for (const viewer of tenants) {
      for (const owner of tenants) {
        for (const id of owner.ids) {
          const call = await gql(gw.url, viewer.key, GetCallDocument, { id });
          const node = await gql(gw.url, viewer.key, GetNodeDocument, { id });
          const events = await gql(gw.url, viewer.key, CallEventsDocument, { id });
          if (viewer === owner) {
            expect(call.data!.call!.id).toBe(id);
            expect(node.data!.node).toMatchObject({ id, appId: owner.appId });
            expect(events.data!.call!.events.nodes).toHaveLength(1);
          } else {
            expect(call.data!.call).toBeNull();
            expect(node.data!.node).toBeNull();
            expect(events.data!.call).toBeNull();
          }
        }
      }
    }
  });

  it("calls, whatever the filter, lists and counts only the key's own tenant", async () => {
    const filters = [
      undefined,
      {},
      { metadata: { shared: 'yes' } },
      { status: ['INITIATED' as const] },
      { fromAddress: apps[0]!.number },
      { fromAddress: apps[1]!.number },
      { toAddress: '+15551234567' },
      { direction: 'OUTBOUND' as const, fromChannel: ['PSTN' as const], toChannel: ['PSTN' as const] },
      { createdAfter: '2000-01-01T00:00:00Z', createdBefore: '2100-01-01T00:00:00Z' },
    ];
    for (const viewer of tenants) {
      for (const filter of filters) {
        const list = await gql(gw.url, viewer.key, ListCallsDocument, { filter, first: 100 });
        const ids = list.data!.calls.nodes.map((call) => call.id);
        expect(ids.every((id) => viewer.ids.includes(id))).toBe(true);
        const count = await gql(gw.url, viewer.key, CountCallsDocument, { filter });
        expect(count.data!.calls.totalCount).toBe(ids.length);
      }
      const all = await gql(gw.url, viewer.key, ListCallsDocument, {});
      expect(all.data!.calls.nodes.map((call) => call.id).sort()).toEqual([...viewer.ids].sort());
    }
  });

  it('a cursor from another tenant reveals nothing of it', async () => {
    const [a, b] = [tenants[0]!, tenants[2]!];
    const page = await gql(gw.url, a.key, ListCallsDocument, { first: 1 });
    const foreignCursor = page.data!.calls.pageInfo.endCursor!;
    const other = await gql(gw.url, b.key, ListCallsDocument, { first: 100, after: foreignCursor });
    expect(other.data!.calls.nodes.every((call) => b.ids.includes(call.id))).toBe(true);
  });

  it('idempotency keys are scoped per tenant: the same key made a call in every tenant', () => {
    const all = tenants.flatMap((tenant) => tenant.ids);
    expect(new Set(all).size).toBe(all.length);
  });
});
