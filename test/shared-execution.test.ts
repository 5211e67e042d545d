import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { bootGateway, eventually, gql, listenersRegistered, newApp, type TestGateway } from './helpers/gateway.js';
import { collect, connectRaw, wsClient } from './helpers/ws.js';
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

const N_TEXTS = 10_060;
describe('subscriptions share executions only with the same text', () => {
  it('past 10,000 distinct texts, two different selections with the same variables still get their own fields', async () => {
    const app = await newApp(gw.admin);
    const seed = await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+15005550006' } });
    const callId = seed.data!.createCall.call!.id;
    const base = gw.gateway.liveSubscriptions;
    const { socket, acked } = await connectRaw(gw.wsUrl, { authorization: `Bearer ${app.testKey}` });
    expect(acked).toBe(true);
    try {
      // Over 10,000 distinct texts, 10 at a time (a completed operation is released a moment after
      // its complete message, so the 20 per socket are not all reused at once): each is
      // subscribed, answers with the call's current state, and is completed.
      const pending = new Map<string, (error?: string) => void>();
      socket.on('message', (raw) => {
        const message = JSON.parse(String(raw)) as { id?: string; type: string };
        if (message.type === 'next' && message.id && pending.has(message.id)) {
          socket.send(JSON.stringify({ id: message.id, type: 'complete' }));
          pending.get(message.id)!();
          pending.delete(message.id);
        } else if (message.type === 'error' && message.id) pending.get(message.id)?.(String(raw));
      });
      const one = (i: number) =>
        new Promise<void>((resolve, reject) => {
          pending.set(`s${i}`, (error) => (error ? reject(new Error(error)) : resolve()));
          socket.send(
            JSON.stringify({
              id: `s${i}`,
              type: 'subscribe',
              payload: { query: `subscription($id: ID) { t${i}: callStatus(callId: $id) { sequence } }`, variables: { id: callId } },
            }),
          );
        });
      for (let start = 0; start < N_TEXTS; start += 10) await Promise.all(Array.from({ length: 10 }, (_, k) => one(start + k)));
    } finally {
      socket.close();
    }
    await eventually(() => gw.gateway.liveSubscriptions === base, 10_000, 'the completed subscriptions to end');

    const client = wsClient(gw.wsUrl, app.testKey);
    try {
      const filter = { toAddress: '+15005550001' };
      const before = base;
      const statuses = collect(client, 'subscription($filter: CallFilter) { callStatus(filter: $filter) { status } }', { filter });
      const numbers = collect(client, 'subscription($filter: CallFilter) { callStatus(filter: $filter) { sequence call { toAddress } } }', { filter });
      await listenersRegistered(gw, before + 2);
      await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+15005550001' } });
      await statuses.until((items) => items.length >= 1);
      await numbers.until((items) => items.length >= 1);
      expect(statuses.items[0]).toEqual({ status: 'INITIATED' });
      expect(numbers.items[0]).toEqual({ sequence: 1, call: { toAddress: '+15005550001' } });
    } finally {
      await client.dispose();
    }
  }, 120_000);
});
