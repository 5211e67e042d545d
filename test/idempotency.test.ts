import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootGateway, gql, newApp, rowCounts, type TestGateway } from './helpers/gateway.js';
import { CreateCallDocument } from './gql/graphql.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await bootGateway({ simulator: 'frozen' });
});
afterAll(() => gw.stop());

describe('createCall idempotency', () => {
  it('the same key and input return the same call with replayed: true', async () => {
    const app = await newApp(gw.admin);
    const input = { from: app.number, to: '+15551234567', metadata: { order: 7, tags: ['a', 'b'] }, idempotencyKey: 'order-7' };
    const first = await gql(gw.url, app.testKey, CreateCallDocument, { input });
    // Same input with metadata keys in another order is the same input.
    const again = await gql(gw.url, app.testKey, CreateCallDocument, { input: { ...input, metadata: { tags: ['a', 'b'], order: 7 } } });
    expect(first.data!.createCall.replayed).toBe(false);
    expect(again.data!.createCall.replayed).toBe(true);
    expect(again.data!.createCall.call).toEqual(first.data!.createCall.call);
    expect(await rowCounts(gw.database, app.id)).toEqual({ calls: 1, events: 1 });
  });

  it('the same key with other input → IDEMPOTENCY_KEY_REUSED, nothing new persisted', async () => {
    const app = await newApp(gw.admin);
    const input = { from: app.number, to: '+15551234567', idempotencyKey: 'k-1' };
    await gql(gw.url, app.testKey, CreateCallDocument, { input });
    for (const changed of [
      { ...input, to: '+15551234568' },
      { ...input, metadata: { x: 1 } },
      { ...input, toChannel: 'WHATSAPP' as const },
    ]) {
      const { data } = await gql(gw.url, app.testKey, CreateCallDocument, { input: changed });
      expect(data!.createCall.call).toBeNull();
      expect(data!.createCall.userErrors).toEqual([expect.objectContaining({ code: 'IDEMPOTENCY_KEY_REUSED', field: ['input', 'idempotencyKey'] })]);
    }
    expect(await rowCounts(gw.database, app.id)).toEqual({ calls: 1, events: 1 });
  });

  it('keys are per application and mode: another tenant may use the same key', async () => {
    const a = await newApp(gw.admin);
    const b = await newApp(gw.admin);
    const one = await gql(gw.url, a.testKey, CreateCallDocument, { input: { from: a.number, to: '+15551234567', idempotencyKey: 'shared' } });
    const two = await gql(gw.url, b.testKey, CreateCallDocument, { input: { from: b.number, to: '+15551234567', idempotencyKey: 'shared' } });
    expect(one.data!.createCall.replayed).toBe(false);
    expect(two.data!.createCall.replayed).toBe(false);
    expect(two.data!.createCall.call!.id).not.toBe(one.data!.createCall.call!.id);
  });

  it('100 concurrent requests with one key create exactly one call', async () => {
    const app = await newApp(gw.admin);
    const input = { from: app.number, to: '+15551234567', idempotencyKey: 'burst' };
    const responses = await Promise.all(Array.from({ length: 100 }, () => gql(gw.url, app.testKey, CreateCallDocument, { input })));
    const ids = new Set(responses.map((response) => response.data!.createCall.call!.id));
    expect(ids.size).toBe(1);
    expect(responses.filter((response) => !response.data!.createCall.replayed)).toHaveLength(1);
    expect(await rowCounts(gw.database, app.id)).toEqual({ calls: 1, events: 1 });
  });

  it('a key older than 24 hours may be used again and creates a new call', async () => {
    const app = await newApp(gw.admin);
    const input = { from: app.number, to: '+15551234567', idempotencyKey: 'daily' };
    const first = await gql(gw.url, app.testKey, CreateCallDocument, { input });
    await gw.database.sql.query(`UPDATE call SET created_at = created_at - interval '25 hours' WHERE id = $1`, [first.data!.createCall.call!.id]);
    const later = await gql(gw.url, app.testKey, CreateCallDocument, { input });
    expect(later.data!.createCall.replayed).toBe(false);
    expect(later.data!.createCall.call!.id).not.toBe(first.data!.createCall.call!.id);
    expect(await rowCounts(gw.database, app.id)).toEqual({ calls: 2, events: 2 });
  });
});
