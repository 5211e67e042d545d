import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootGateway, eventually, gql, listenersRegistered, newApp, type TestGateway } from './helpers/gateway.js';
import { CALL_STATUS, collect, wsClient } from './helpers/ws.js';
import { CreateCallDocument } from './gql/graphql.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await bootGateway({ simulator: 'frozen' });
});
afterAll(() => gw.stop());

describe('ending subscriptions', () => {
  it('a completed subscription and a closed socket release their listeners at once, with no event needed', async () => {
    const app = await newApp(gw.admin);
    const created = await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+15005550006' } });
    const id = created.data!.createCall.call!.id;
    const base = gw.gateway.liveSubscriptions;
    const client = wsClient(gw.wsUrl, app.testKey);
    const tenantWide = collect(client, CALL_STATUS, {});
    const oneCall = collect(client, CALL_STATUS, { callId: id });
    await oneCall.until((items) => items.length === 1);
    await listenersRegistered(gw, base + 2);
    tenantWide.stop();
    oneCall.stop();
    await eventually(() => gw.gateway.liveSubscriptions === base, 5_000, 'listeners released after complete');

    const other = wsClient(gw.wsUrl, app.testKey);
    collect(other, CALL_STATUS, {});
    await listenersRegistered(gw, base + 1);
    await other.dispose();
    await eventually(() => gw.gateway.liveSubscriptions === base, 5_000, 'listeners released after the socket closed');
    expect(gw.gateway.liveSubscriptions).toBe(base);
    await client.dispose();
  });
});
