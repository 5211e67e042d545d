import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootGateway, gql, newApp, type TestApp, type TestGateway } from './helpers/gateway.js';
import { CountCallsDocument, CreateCallDocument, ListCallsDocument, type CallFilter } from './gql/graphql.js';

let gw: TestGateway;
let app: TestApp;
const ids: Record<string, string> = {};

beforeAll(async () => {
  gw = await bootGateway({ simulator: 'frozen' });
  app = await newApp(gw.admin);
  const make = async (name: string, input: Record<string, unknown>) => {
    const { data } = await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+15551234567', ...input } as never });
    ids[name] = data!.createCall.call!.id;
  };
  await make('pstn', { metadata: { team: 'sales', tier: 'gold', nested: { region: 'eu' } } });
  await make('whatsapp', { toChannel: 'WHATSAPP', to: '+447700900123', metadata: { team: 'sales' } });
  await make('webrtcTo', { toChannel: 'WEBRTC', to: 'alice', metadata: { team: 'support' } });
  await make('webrtcFrom', { fromChannel: 'WEBRTC', from: 'bob', to: '+15551230000' });
  // Statuses and times set directly: the lifecycle that moves them is exercised elsewhere.
  await gw.database.sql.query(`UPDATE call SET status = 'completed' WHERE id = $1`, [ids.pstn]);
  await gw.database.sql.query(`UPDATE call SET status = 'busy' WHERE id = $1`, [ids.whatsapp]);
  await gw.database.sql.query(`UPDATE call SET created_at = '2020-01-01T00:00:00Z' WHERE id = $1`, [ids.webrtcFrom]);
  await gw.database.sql.query(`UPDATE call SET created_at = '2020-06-01T00:00:00Z' WHERE id = $1`, [ids.webrtcTo]);
});
afterAll(() => gw.stop());

async function matching(filter: CallFilter): Promise<string[]> {
  const list = await gql(gw.url, app.testKey, ListCallsDocument, { filter, first: 100 });
  const count = await gql(gw.url, app.testKey, CountCallsDocument, { filter });
  const found = list.data!.calls.nodes.map((node) => node.id);
  expect(count.data!.calls.totalCount).toBe(found.length);
  return Object.entries(ids)
    .filter(([, id]) => found.includes(id))
    .map(([name]) => name)
    .sort();
}

describe('calls(filter:)', () => {
  it.each<[string, CallFilter, string[]]>([
    ['status (any of)', { status: ['COMPLETED', 'BUSY'] }, ['pstn', 'whatsapp']],
    ['status (one)', { status: ['INITIATED'] }, ['webrtcFrom', 'webrtcTo']],
    ['direction', { direction: 'OUTBOUND' }, ['pstn', 'webrtcFrom', 'webrtcTo', 'whatsapp']],
    ['direction INBOUND', { direction: 'INBOUND' }, []],
    ['fromChannel', { fromChannel: ['WEBRTC'] }, ['webrtcFrom']],
    ['toChannel (any of)', { toChannel: ['WHATSAPP', 'WEBRTC'] }, ['webrtcTo', 'whatsapp']],
    ['fromAddress', { fromAddress: 'bob' }, ['webrtcFrom']],
    ['toAddress', { toAddress: '+447700900123' }, ['whatsapp']],
    ['createdAfter is inclusive', { createdAfter: '2020-06-01T00:00:00Z', createdBefore: '2021-01-01T00:00:00Z' }, ['webrtcTo']],
    ['createdBefore is exclusive', { createdBefore: '2020-06-01T00:00:00Z' }, ['webrtcFrom']],
    ['metadata containment', { metadata: { team: 'sales' } }, ['pstn', 'whatsapp']],
    ['metadata: every key must match', { metadata: { team: 'sales', tier: 'gold' } }, ['pstn']],
    ['metadata: nested containment', { metadata: { nested: { region: 'eu' } } }, ['pstn']],
    ['metadata: no match', { metadata: { team: 'nobody' } }, []],
    ['filters combine with AND', { status: ['COMPLETED', 'BUSY'], toChannel: ['WHATSAPP'] }, ['whatsapp']],
  ])('%s', async (_name, filter, expected) => {
    expect(await matching(filter)).toEqual(expected);
  });

  it('metadata containment can use the GIN index (jsonb_path_ops)', async () => {
    const client = await gw.database.sql.pool.connect();
    try {
      await client.query('BEGIN');
      // The test table is tiny, so the planner would rightly prefer a sequential scan.
      await client.query('SET LOCAL enable_seqscan = off');
      const { rows } = await client.query(`EXPLAIN SELECT id FROM call WHERE metadata @> '{"team":"sales"}'::jsonb`);
      expect(rows.map((row) => row['QUERY PLAN']).join('\n')).toContain('call_metadata_gin_idx');
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });
});
