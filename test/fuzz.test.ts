import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bootGateway, newApp, rawGql, rowCounts, type TestApp, type TestGateway } from './helpers/gateway.js';

// Property-based fuzzing of the two most exposed inputs. Development mode: an internal error
// would carry a stack trace, so "no INTERNAL_SERVER_ERROR and no stacktrace" catches both.
let gw: TestGateway;
let app: TestApp;
beforeAll(async () => {
  gw = await bootGateway({ simulator: 'frozen' });
  app = await newApp(gw.admin);
});
afterAll(() => gw.stop());

const RUNS = 10_000;
const CHANNELS = ['PSTN', 'WEBRTC', 'WHATSAPP'];
const STATUSES = ['INITIATED', 'RINGING', 'IN_PROGRESS', 'VOICEMAIL', 'COMPLETED', 'FAILED', 'BUSY', 'NO_ANSWER', 'CANCELED'];
const phone = fc.oneof(
  fc.constantFrom('+15005550001', '+15005550006', '+15551234567', '+442071838750', '+15005550002'),
  fc.stringMatching(/^\+[0-9]{1,17}$/),
  fc.string({ unit: 'binary', maxLength: 40 }),
);
const identity = fc.oneof(fc.stringMatching(/^[A-Za-z0-9_.:@-]{0,130}$/), fc.string({ unit: 'binary', maxLength: 140 }));
const json = fc.jsonValue({ maxDepth: 4 });

async function inBatches<T>(items: T[], size: number, send: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(send));
}

function checkNoInternal(response: { status: number; errors?: { message: string; extensions?: Record<string, unknown> }[] }, input: unknown): void {
  for (const error of response.errors ?? []) {
    expect(error.extensions?.code, JSON.stringify(input).slice(0, 300)).not.toBe('INTERNAL_SERVER_ERROR');
    expect(error.extensions?.stacktrace).toBeUndefined();
  }
  expect(response.status === 200 || response.status === 400, `status ${response.status}`).toBe(true);
}

describe(`property-based fuzzing (fast-check), ${RUNS} runs each`, () => {
  it('createCall: never an internal error; a refused input persists nothing, an accepted one exactly one call', async () => {
    const input = fc.record(
      {
        from: fc.oneof(fc.constant(app.number), phone, identity),
        to: fc.oneof(phone, identity),
        fromChannel: fc.constantFrom(...CHANNELS),
        toChannel: fc.constantFrom(...CHANNELS),
        metadata: fc.oneof(fc.dictionary(fc.string({ unit: 'binary', maxLength: 12 }), json, { maxKeys: 6 }), fc.constant(null)),
        idempotencyKey: fc.option(fc.string({ unit: 'binary', maxLength: 300 })),
      },
      { requiredKeys: ['from', 'to'] },
    );
    const inputs = fc.sample(input, { numRuns: RUNS, seed: 20261124 });
    const before = await rowCounts(gw.database, app.id);
    let created = 0;
    let refused = 0;
    await inBatches(inputs, 16, async (item) => {
      const response = await rawGql(gw.url, app.testKey, {
        query: 'mutation($input: CreateCallInput!) { createCall(input: $input) { call { id } userErrors { code field } replayed } }',
        variables: { input: item },
      });
      checkNoInternal(response, item);
      const payload = response.data?.createCall;
      if (!payload) return; // a GraphQL-level refusal (e.g. metadata that is not an object): nothing ran
      if (payload.userErrors.length) {
        expect(payload.call).toBeNull();
        refused++;
      } else if (!payload.replayed) {
        created++;
      }
    });
    const after = await rowCounts(gw.database, app.id);
    expect(after.calls - before.calls).toBe(created);
    expect(after.events - before.events).toBe(created);
    expect(refused).toBeGreaterThan(RUNS / 2);
    expect(created).toBeGreaterThan(0);
  }, 240_000);

  it('calls(filter, first, last, after, before): never an internal error', async () => {
    const filter = fc.record(
      {
        status: fc.array(fc.constantFrom(...STATUSES), { maxLength: 4 }),
        direction: fc.constantFrom('INBOUND', 'OUTBOUND'),
        fromChannel: fc.array(fc.constantFrom(...CHANNELS), { maxLength: 3 }),
        toChannel: fc.array(fc.constantFrom(...CHANNELS), { maxLength: 3 }),
        fromAddress: fc.oneof(phone, identity),
        toAddress: fc.oneof(phone, identity),
        createdAfter: fc.oneof(
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
          fc.string({ maxLength: 30 }),
        ),
        createdBefore: fc.oneof(
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
          fc.string({ maxLength: 30 }),
        ),
        metadata: fc.oneof(fc.dictionary(fc.string({ unit: 'binary', maxLength: 12 }), json, { maxKeys: 4 }), json),
      },
      { requiredKeys: [] },
    );
    const args = fc.record(
      {
        filter,
        first: fc.integer({ min: -5, max: 150 }),
        last: fc.integer({ min: -5, max: 150 }),
        after: fc.oneof(fc.string({ unit: 'binary', maxLength: 60 }), fc.base64String({ maxLength: 60 })),
        before: fc.oneof(fc.string({ unit: 'binary', maxLength: 60 }), fc.base64String({ maxLength: 60 })),
      },
      { requiredKeys: [] },
    );
    const samples = fc.sample(args, { numRuns: RUNS, seed: 1124 });
    let answered = 0;
    await inBatches(samples, 16, async (variables) => {
      const response = await rawGql(gw.url, app.testKey, {
        query:
          'query($filter: CallFilter, $first: Int, $last: Int, $after: String, $before: String) { calls(filter: $filter, first: $first, last: $last, after: $after, before: $before) { totalCount nodes { id } pageInfo { hasNextPage } } }',
        variables,
      });
      checkNoInternal(response, variables);
      if (response.data?.calls) answered++;
    });
    expect(answered).toBeGreaterThan(0);
  }, 240_000);
});
