import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootGateway, eventually, newApp, rawGql, type TestApp, type TestGateway } from './helpers/gateway.js';

// Hostile: one tenant's burst of test calls must not hold up another tenant. 300 of tenant A's
// calls and then one of tenant B's come due at the same moment (a gateway starting after a pause
// resumes them all at once, as after a burst): B's transition must not wait behind A's 300, and
// the simulator never runs more callbacks at once than SIMULATOR_MAX_IN_FLIGHT. Before the
// fair queue (src/providers/simulator/fair-queue.ts) every due transition went to the pool at
// once and B's came ~300th.
const CREATE = 'mutation($i: CreateCallInput!) { createCall(input: $i) { call { id } userErrors { code } } }';
let first: TestGateway;
let second: TestGateway | undefined;
let a: TestApp;
let b: TestApp;
beforeAll(async () => {
  first = await bootGateway({ simulator: 'frozen' });
  a = await newApp(first.admin, 'tenant A');
  b = await newApp(first.admin, 'tenant B');
});
afterAll(async () => {
  await second?.stop();
  await first.stop();
});

describe('the simulator under one tenant’s burst', () => {
  it('another tenant’s call moves on its turn, not after the burst, and at most SIMULATOR_MAX_IN_FLIGHT run at once', async () => {
    // Calls that stop at IN_PROGRESS (+15005550006), so the burst is two transitions a call.
    for (let i = 0; i < 300; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, () => rawGql(first.url, a.testKey, { query: CREATE, variables: { i: { from: a.number, to: '+15005550006' } } })),
      );
    }
    const created = await rawGql(first.url, b.testKey, { query: CREATE, variables: { i: { from: b.number, to: '+15005550006' } } });
    const bCall = created.data.createCall.call.id as string;
    // The frozen gateway goes; the calls' last events move an hour back, so every first step is overdue.
    await first.gateway.stop();
    await first.database.sql.query(`UPDATE call_event SET occurred_at = occurred_at - interval '1 hour'`);
    second = await bootGateway({ simulator: 'fast', shareDatabaseWith: first, env: { SIMULATOR_MAX_IN_FLIGHT: '3' } });
    await eventually(
      async () => {
        const [row] = await first.database.sql.query<{ n: string }>(`SELECT count(*) AS n FROM call_event WHERE status = 'ringing'`);
        return Number(row!.n) === 301;
      },
      30_000,
      'all 301 calls RINGING',
    );
    const rows = await first.database.sql.query<{ callId: string }>(
      `SELECT call_id AS "callId" FROM call_event WHERE status = 'ringing' ORDER BY occurred_at, id`,
    );
    const rank = rows.findIndex((row) => row.callId === bCall);
    // B queued behind A's first turns only: a few places, not ~300.
    expect(rank).toBeGreaterThanOrEqual(0);
    expect(rank).toBeLessThan(10);
    expect(second.gateway.simulator.backlog.maxInFlight).toBeLessThanOrEqual(3);
    expect(second.gateway.simulator.backlog.maxInFlight).toBeGreaterThan(1);
    // And B's call reads RINGING (or further) through the API.
    const read = await rawGql(second.url, b.testKey, { query: 'query($id: ID!) { call(id: $id) { status } }', variables: { id: bCall } });
    expect(['RINGING', 'IN_PROGRESS']).toContain(read.data.call.status);
  });
});
