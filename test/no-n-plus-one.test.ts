import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootGateway, gql, newApp, type TestApp, type TestGateway } from './helpers/gateway.js';
import { CreateCallDocument, ListCallsWithEventsDocument } from './gql/graphql.js';

let gw: TestGateway;
let app: TestApp;

beforeAll(async () => {
  gw = await bootGateway({ simulator: 'frozen' });
  app = await newApp(gw.admin);
  for (let i = 0; i < 50; i++) {
    await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+15551234567' } });
  }
});
afterAll(() => gw.stop());

describe('Call.events through a DataLoader', () => {
  it('the SQL statement count of calls { nodes { events } } does not grow with the page', async () => {
    const statementsFor = async (first: number) => {
      const { data, errors, statements } = await gql(gw.url, app.testKey, ListCallsWithEventsDocument, { first });
      expect(errors).toBeUndefined();
      expect(data!.calls.nodes).toHaveLength(first);
      for (const call of data!.calls.nodes) expect(call.events.nodes.map((event) => event.sequence)).toEqual([1]);
      return statements;
    };
    await statementsFor(1); // warm the key cache, so auth is not counted below
    const small = await statementsFor(5);
    const large = await statementsFor(50);
    expect(large).toBe(small);
    expect(large).toBe(2); // the page, then all of its events in one statement
  });
});
