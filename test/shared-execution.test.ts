import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { bootGateway, gql, listenersRegistered, newApp, type TestGateway } from './helpers/gateway.js';
import { collect, wsClient } from './helpers/ws.js';
import { CreateCallDocument } from './gql/graphql.js';
import { CallService } from '../src/domain/call-service.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await bootGateway({ simulator: 'frozen' });
});
afterAll(() => gw.stop());

const WITH_EVENTS = `subscription($filter: CallFilter) {
  callStatus(filter: $filter) { sequence status call { id events { nodes { sequence status } } } }
}`;

describe('live events are executed once per event and selection, not per subscriber', () => {
  it('20 subscribers in two groups of selection+variables: two executions per event, and all receive the same data', async () => {
    const app = await newApp(gw.admin);
    const eventsOf = vi.spyOn(CallService.prototype, 'eventsOf');
    const clients = Array.from({ length: 4 }, () => wsClient(gw.wsUrl, app.testKey));
    try {
      const before = gw.gateway.liveSubscriptions;
      const subs = Array.from({ length: 20 }, (_, index) =>
        collect(clients[index % 4]!, WITH_EVENTS, { filter: index % 2 ? { toAddress: '+15005550006' } : { fromAddress: app.number } }),
      );
      await listenersRegistered(gw, before + 20);
      eventsOf.mockClear();
      await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+15005550006' } });
      await Promise.all(subs.map((sub) => sub.until((items) => items.length >= 1)));
      // One execution (so one Call.events load) per group.
      expect(eventsOf).toHaveBeenCalledTimes(2);
      for (const sub of subs) {
        expect(sub.items).toEqual(subs[0]!.items);
        expect(sub.items[0]).toMatchObject({ sequence: 1, status: 'INITIATED', call: { events: { nodes: [{ sequence: 1, status: 'INITIATED' }] } } });
      }
    } finally {
      eventsOf.mockRestore();
      await Promise.all(clients.map((client) => client.dispose()));
    }
  });
});
