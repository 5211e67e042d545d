import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootGateway, gql, randomNumber, rawGql, type TestGateway } from './helpers/gateway.js';
import { runCli } from './helpers/cli.js';
import { CreateCallDocument, ListCallsDocument } from './gql/graphql.js';

let gw: TestGateway;
const env = () => ({ DATABASE_URL: gw.databaseUrl });

beforeAll(async () => {
  gw = await bootGateway({ config: { authCacheTtlMs: 0 } });
});
afterAll(() => gw.stop());

// Each CLI run is a new Node process that loads MikroORM (≈1–2 s here), so these take a while.
describe('calls-gateway CLI against DATABASE_URL while the gateway runs', { timeout: 120_000 }, () => {
  it('apps create → numbers assign → keys create → keys revoke, with --json', async () => {
    const created = await runCli(['apps', 'create', '--name', 'CLI app', '--json'], env());
    expect(created.code).toBe(0);
    const app = JSON.parse(created.stdout);
    expect(app).toEqual({
      id: expect.stringMatching(/^app_[0-9A-Za-z]{27}$/),
      testKey: expect.stringMatching(/^sk_test_app_/),
      liveKey: expect.stringMatching(/^sk_live_app_/),
    });

    const number = randomNumber();
    const assigned = await runCli(['numbers', 'assign', '--app', app.id, '--number', number, '--json'], env());
    expect(assigned.code).toBe(0);
    expect(JSON.parse(assigned.stdout)).toMatchObject({ number, appId: app.id });

    const call = await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: number, to: '+15551234567' } });
    expect(call.data!.createCall.userErrors).toEqual([]);

    const keyRun = await runCli(['keys', 'create', '--app', app.id, '--mode', 'test', '--json'], env());
    expect(keyRun.code).toBe(0);
    const key = JSON.parse(keyRun.stdout);
    expect(key).toEqual({ id: expect.stringMatching(/^key_app_/), key: expect.stringMatching(/^sk_test_app_[0-9A-Za-z]{32}$/) });
    const listed = await gql(gw.url, key.key, ListCallsDocument, {});
    expect(listed.data!.calls.nodes).toHaveLength(1);

    const revoked = await runCli(['keys', 'revoke', '--key', key.id], env());
    expect(revoked.code).toBe(0);
    expect((await gql(gw.url, key.key, ListCallsDocument, {})).status).toBe(401);

    // A rotation: the old key keeps working until --at, as the README says.
    const rotated = JSON.parse((await runCli(['keys', 'create', '--app', app.id, '--mode', 'test', '--json'], env())).stdout);
    const at = new Date(Date.now() + 60_000).toISOString();
    const later = await runCli(['keys', 'revoke', '--key', rotated.id, '--at', at, '--json'], env());
    expect(later.code).toBe(0);
    expect(JSON.parse(later.stdout)).toEqual({ id: rotated.id, revokedAt: at });
    expect((await gql(gw.url, rotated.key, ListCallsDocument, {})).status).toBe(200);
  });

  it.each([
    [['apps', 'create', '--json'], /--name/],
    [['numbers', 'assign', '--app', 'app_nope', '--number', '+15551234567'], /No application app_nope/],
    [['numbers', 'assign', '--app', 'app_nope', '--number', '555-1234'], /not a possible E\.164/],
    [['keys', 'create', '--app', 'app_nope', '--mode', 'test'], /No application/],
    [['keys', 'create', '--app', 'app_nope', '--mode', 'prod'], /choices/],
    [['keys', 'revoke', '--key', 'key_app_nope'], /No API key/],
    [['keys', 'revoke', '--key', 'key_app_nope', '--at', 'tomorrow'], /--at must be an ISO 8601 time/],
  ])('%j fails on stderr with a non-zero exit', async (args, message) => {
    const result = await runCli(args, env());
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  });

  it('numbers assign --whatsapp-id makes a WhatsApp business number: phoneNumbers shows it, and a WHATSAPP from is accepted only then', async () => {
    const app = JSON.parse((await runCli(['apps', 'create', '--name', 'whatsapp', '--json'], env())).stdout);
    const number = randomNumber();
    const whatsappId = String(100_000_000_000_000 + Math.floor(Math.random() * 1e12));
    const place = () =>
      rawGql(gw.url, app.testKey, {
        query: `mutation($input: CreateCallInput!) { createCall(input: $input) { call { fromChannel } userErrors { code field } } }`,
        variables: { input: { from: number, fromChannel: 'WHATSAPP', to: '+15551234567', toChannel: 'WHATSAPP' } },
      });
    expect((await runCli(['numbers', 'assign', '--app', app.id, '--number', number], env())).code).toBe(0);
    expect((await place()).data.createCall).toEqual({ call: null, userErrors: [{ code: 'PHONE_NUMBER_NOT_ASSIGNED', field: ['input', 'from'] }] });
    expect((await runCli(['numbers', 'assign', '--app', app.id, '--number', number, '--whatsapp-id', 'not-digits'], env())).stderr).toMatch(/1 to 64 digits/);
    const assigned = await runCli(['numbers', 'assign', '--app', app.id, '--number', number, '--whatsapp-id', whatsappId, '--json'], env());
    expect(JSON.parse(assigned.stdout)).toMatchObject({ number, whatsappPhoneNumberId: whatsappId });
    const listed = await rawGql(gw.url, app.testKey, { query: `{ phoneNumbers { number channels whatsappPhoneNumberId } }` });
    expect(listed.data.phoneNumbers).toEqual([{ number, channels: ['PSTN', 'WHATSAPP'], whatsappPhoneNumberId: whatsappId }]);
    expect((await place()).data.createCall).toEqual({ call: { fromChannel: 'WHATSAPP' }, userErrors: [] });
    // One WhatsApp id belongs to one number.
    const other = randomNumber();
    const taken = await runCli(['numbers', 'assign', '--app', app.id, '--number', other, '--whatsapp-id', whatsappId], env());
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(/already assigned/);
  });

  it('refuses a number already assigned to another application', async () => {
    const one = JSON.parse((await runCli(['apps', 'create', '--name', 'one', '--json'], env())).stdout);
    const two = JSON.parse((await runCli(['apps', 'create', '--name', 'two', '--json'], env())).stdout);
    const number = randomNumber();
    expect((await runCli(['numbers', 'assign', '--app', one.id, '--number', number], env())).code).toBe(0);
    const taken = await runCli(['numbers', 'assign', '--app', two.id, '--number', number], env());
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(/already assigned to another application/);
  });
});
