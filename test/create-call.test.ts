import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootGateway, gql, newApp, rawGql, rowCounts, type TestApp, type TestGateway } from './helpers/gateway.js';
import { CreateCallDocument, type Channel } from './gql/graphql.js';
import { wsClient, wsRequest } from './helpers/ws.js';

let gw: TestGateway;
let app: TestApp;

beforeAll(async () => {
  gw = await bootGateway({ simulator: 'frozen' });
  app = await newApp(gw.admin);
  // A WhatsApp business number too (numbers assign --whatsapp-id), so that it may be a WHATSAPP from.
  await gw.admin.assignNumber(app.id, app.number, { whatsappPhoneNumberId: String(Date.now()) });
});
afterAll(() => gw.stop());

const CHANNELS: Channel[] = ['PSTN', 'WEBRTC', 'WHATSAPP'];

function addressFor(channel: Channel, role: 'from' | 'to'): string {
  if (channel === 'WEBRTC') return role === 'from' ? 'agent-42@support.example' : 'customer:7_a.b-c';
  return role === 'from' ? app.number : '+15551234567';
}

describe('createCall', () => {
  it('defaults to PSTN to PSTN, OUTBOUND, INITIATED, {} metadata and a call_test_ id', async () => {
    const { data, errors } = await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+15551234567' } });
    expect(errors).toBeUndefined();
    const payload = data!.createCall;
    expect(payload.userErrors).toEqual([]);
    expect(payload.replayed).toBe(false);
    const call = payload.call!;
    expect(call.id).toMatch(/^call_test_[0-9A-Za-z]{27}$/);
    expect(call).toMatchObject({
      appId: app.id,
      direction: 'OUTBOUND',
      status: 'INITIATED',
      fromAddress: app.number,
      toAddress: '+15551234567',
      fromChannel: 'PSTN',
      toChannel: 'PSTN',
      metadata: {},
      livekitRoomName: null,
      duration: null,
      endReason: null,
      startedAt: null,
      answeredAt: null,
      endedAt: null,
    });
    expect(Date.now() - Date.parse(call.createdAt)).toBeLessThan(60_000);
  });

  for (const fromChannel of CHANNELS) {
    for (const toChannel of CHANNELS) {
      it(`places a ${fromChannel} → ${toChannel} call, with livekitRoomName when a leg is WebRTC`, async () => {
        const from = addressFor(fromChannel, 'from');
        const to = addressFor(toChannel, 'to');
        const { data } = await gql(gw.url, app.testKey, CreateCallDocument, {
          input: { from, to, fromChannel, toChannel, metadata: { pair: `${fromChannel}-${toChannel}`, nested: { n: 1 } } },
        });
        const call = data!.createCall.call!;
        expect(data!.createCall.userErrors).toEqual([]);
        expect(call).toMatchObject({
          fromChannel,
          toChannel,
          fromAddress: from,
          toAddress: to,
          metadata: { pair: `${fromChannel}-${toChannel}`, nested: { n: 1 } },
        });
        // Legs meet in the call's LiveKit room, except PSTN to PSTN (Telnyx Call Control); the
        // platform shows the room only to calls with a WebRTC leg (whose client joins it).
        const webrtc = fromChannel === 'WEBRTC' || toChannel === 'WEBRTC';
        expect(call.livekitRoomName).toBe(webrtc ? call.id : null);
        const [stored] = await gw.database.sql.query<{ room_name: string | null }>('SELECT room_name FROM call WHERE id = $1', [call.id]);
        expect(stored!.room_name).toBe(fromChannel === 'PSTN' && toChannel === 'PSTN' ? null : call.id);
      });
    }
  }

  it('fromChannel: null and toChannel: null, sent explicitly, mean the default PSTN (the contract has them optional), over HTTP and WebSocket', async () => {
    const query = `mutation($input: CreateCallInput!) { createCall(input: $input) { call { fromChannel toChannel } userErrors { code } } }`;
    const variables = { input: { from: app.number, to: '+15551234567', fromChannel: null, toChannel: null } };
    const overHttp = await rawGql(gw.url, app.testKey, { query, variables });
    expect(overHttp.errors).toBeUndefined();
    expect(overHttp.data.createCall).toEqual({ call: { fromChannel: 'PSTN', toChannel: 'PSTN' }, userErrors: [] });
    const inline = await rawGql(gw.url, app.testKey, {
      query: `mutation { createCall(input: { from: "${app.number}", to: "+15551234567", fromChannel: null, toChannel: null }) { call { fromChannel toChannel } } }`,
    });
    expect(inline.data.createCall.call).toEqual({ fromChannel: 'PSTN', toChannel: 'PSTN' });
    const client = wsClient(gw.wsUrl, app.testKey);
    try {
      expect((await wsRequest(client, query, variables)).data.createCall.call).toEqual({ fromChannel: 'PSTN', toChannel: 'PSTN' });
    } finally {
      await client.dispose();
    }
  });

  it('accepts the documentation example +15551234567 as a destination on every phone channel', async () => {
    for (const toChannel of ['PSTN', 'WHATSAPP'] as const) {
      const { data } = await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+15551234567', toChannel } });
      expect(data!.createCall.userErrors).toEqual([]);
    }
  });

  it('accepts the short numbers of small countries (what libphonenumber calls possible, 7 digits in all), and refuses one too short for its country', async () => {
    // Niue (+683) numbers have 4 digits after the country code; Tokelau's (+690) too.
    for (const to of ['+6834001', '+6901234']) {
      const { data } = await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: app.number, to } });
      expect(data!.createCall.userErrors).toEqual([]);
      expect(data!.createCall.call!.toAddress).toBe(to);
    }
    const { data } = await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+683400' } });
    expect(data!.createCall.userErrors).toEqual([expect.objectContaining({ code: 'INVALID_PHONE_NUMBER', field: ['input', 'to'] })]);
    expect(data!.createCall.call).toBeNull();
  });
});

describe('createCall refuses bad input with a typed userError and persists nothing', () => {
  const big = 'x'.repeat(16 * 1024);
  const cases: { name: string; input: () => Record<string, unknown>; code: string; field: string[] }[] = [
    { name: 'a destination with spaces', input: () => ({ from: app.number, to: '+1 555 123 4567' }), code: 'INVALID_PHONE_NUMBER', field: ['input', 'to'] },
    { name: 'a national-format destination', input: () => ({ from: app.number, to: '5551234567' }), code: 'INVALID_PHONE_NUMBER', field: ['input', 'to'] },
    {
      name: 'an impossible number (too short for +1)',
      input: () => ({ from: app.number, to: '+1555123' }),
      code: 'INVALID_PHONE_NUMBER',
      field: ['input', 'to'],
    },
    { name: 'too many digits', input: () => ({ from: app.number, to: '+1555123456789012' }), code: 'INVALID_PHONE_NUMBER', field: ['input', 'to'] },
    {
      name: 'a bad WhatsApp destination',
      input: () => ({ from: app.number, to: 'bob', toChannel: 'WHATSAPP' }),
      code: 'INVALID_PHONE_NUMBER',
      field: ['input', 'to'],
    },
    { name: 'a bad PSTN caller', input: () => ({ from: '+12', to: '+15551234567' }), code: 'INVALID_PHONE_NUMBER', field: ['input', 'from'] },
    {
      name: 'a WebRTC identity with a space',
      input: () => ({ from: app.number, to: 'bad identity', toChannel: 'WEBRTC' }),
      code: 'INVALID_ADDRESS',
      field: ['input', 'to'],
    },
    {
      name: 'a WebRTC identity of 129 characters',
      input: () => ({ from: 'a'.repeat(129), fromChannel: 'WEBRTC', to: '+15551234567' }),
      code: 'INVALID_ADDRESS',
      field: ['input', 'from'],
    },
    { name: 'an empty WebRTC identity', input: () => ({ from: app.number, to: '', toChannel: 'WEBRTC' }), code: 'INVALID_ADDRESS', field: ['input', 'to'] },
    {
      name: 'a caller number not assigned to the application',
      input: () => ({ from: '+15559999999', to: '+15551234567' }),
      code: 'PHONE_NUMBER_NOT_ASSIGNED',
      field: ['input', 'from'],
    },
    {
      name: "a WhatsApp caller that is the application's number but not a WhatsApp number",
      input: () => ({ from: app.number, fromChannel: 'WHATSAPP', to: '+15551234567' }),
      code: 'PHONE_NUMBER_NOT_ASSIGNED',
      field: ['input', 'from'],
    },
    {
      name: 'a WhatsApp caller not assigned to the application',
      input: () => ({ from: '+15559999999', fromChannel: 'WHATSAPP', to: '+15551234567' }),
      code: 'PHONE_NUMBER_NOT_ASSIGNED',
      field: ['input', 'from'],
    },
    {
      name: 'metadata over 16 KB',
      input: () => ({ from: app.number, to: '+15551234567', metadata: { big } }),
      code: 'INVALID_METADATA',
      field: ['input', 'metadata'],
    },
    {
      name: 'metadata with a NUL character',
      input: () => ({ from: app.number, to: '+15551234567', metadata: { a: 'x\u0000y' } }),
      code: 'INVALID_METADATA',
      field: ['input', 'metadata'],
    },
    {
      name: 'metadata with half a surrogate pair',
      input: () => ({ from: app.number, to: '+15551234567', metadata: { a: 'x\ud800y' } }),
      code: 'INVALID_METADATA',
      field: ['input', 'metadata'],
    },
    {
      name: 'metadata with a key ending in half a surrogate pair',
      input: () => ({ from: app.number, to: '+15551234567', metadata: { ['k\udc00']: 1 } }),
      code: 'INVALID_METADATA',
      field: ['input', 'metadata'],
    },
    {
      name: 'an empty idempotency key',
      input: () => ({ from: app.number, to: '+15551234567', idempotencyKey: '' }),
      code: 'INVALID_IDEMPOTENCY_KEY',
      field: ['input', 'idempotencyKey'],
    },
    {
      name: 'an idempotency key of 256 characters',
      input: () => ({ from: app.number, to: '+15551234567', idempotencyKey: 'k'.repeat(256) }),
      code: 'INVALID_IDEMPOTENCY_KEY',
      field: ['input', 'idempotencyKey'],
    },
  ];

  for (const testCase of cases) {
    it(`${testCase.name} → ${testCase.code} at ${testCase.field.join('.')}`, async () => {
      const fresh = await newApp(gw.admin);
      const input = testCase.input();
      if (input.from === app.number) input.from = fresh.number;
      const { data, errors } = await gql(gw.url, fresh.testKey, CreateCallDocument, { input: input as never });
      expect(errors).toBeUndefined();
      expect(data!.createCall.call).toBeNull();
      expect(data!.createCall.replayed).toBe(false);
      expect(data!.createCall.userErrors).toContainEqual(expect.objectContaining({ code: testCase.code, field: testCase.field }));
      expect(data!.createCall.userErrors[0]!.message.length).toBeGreaterThan(10);
      expect(await rowCounts(gw.database, fresh.id)).toEqual({ calls: 0, events: 0 });
    });
  }

  it('reports every invalid field at once', async () => {
    const { data } = await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: 'nope', to: 'also nope' } });
    expect(data!.createCall.userErrors.map((error) => error.field)).toEqual([
      ['input', 'from'],
      ['input', 'to'],
    ]);
  });

  it('live mode with no live provider configured → PROVIDER_NOT_CONFIGURED, nothing persisted', async () => {
    const fresh = await newApp(gw.admin);
    const { data } = await gql(gw.url, fresh.liveKey, CreateCallDocument, { input: { from: fresh.number, to: '+15551234567' } });
    expect(data!.createCall.call).toBeNull();
    expect(data!.createCall.userErrors).toEqual([expect.objectContaining({ code: 'PROVIDER_NOT_CONFIGURED', field: ['input', 'toChannel'] })]);
    expect(await rowCounts(gw.database, fresh.id)).toEqual({ calls: 0, events: 0 });
  });

  it('metadata that is not an object is a GraphQL BAD_USER_INPUT error, nothing persisted', async () => {
    const fresh = await newApp(gw.admin);
    for (const metadata of [[1, 2], 'text', 42]) {
      const response = await rawGql(gw.url, fresh.testKey, {
        query: 'mutation($input: CreateCallInput!) { createCall(input: $input) { call { id } } }',
        variables: { input: { from: fresh.number, to: '+15551234567', metadata } },
      });
      expect(response.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
    expect(await rowCounts(gw.database, fresh.id)).toEqual({ calls: 0, events: 0 });
  });

  it('an unknown channel is a validation error', async () => {
    const response = await rawGql(gw.url, app.testKey, {
      query: `mutation { createCall(input: {from: "${app.number}", to: "+15551234567", toChannel: SMS}) { call { id } } }`,
    });
    expect(response.status).toBe(400);
    expect(response.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});
