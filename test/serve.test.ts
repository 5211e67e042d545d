import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './helpers/global-setup.js';
import { runCli, startServe, startServeUntil } from './helpers/cli.js';
import { gql } from './helpers/gateway.js';
import { CreateCallDocument, ListCallsDocument } from './gql/graphql.js';

let dataDir: string;
let env: Record<string, string | undefined>;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'calls-serve-'));
  await chmod(dataDir, 0o755);
  env = { DATABASE_URL: undefined, DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(await freePort()), PORT: String(await freePort()) };
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

describe('calls-gateway serve on the embedded PostgreSQL (what npm start runs)', () => {
  it('first start: demo app, key and number printed, createCall works; SIGTERM exits 0; the CLI works with and without the server; a second start reuses the data', async () => {
    const first = await startServe(env);
    const banner = first.output();
    const url = /listening on (http:\/\/\S+\/graphql)/.exec(banner)![1]!;
    const key = /test key: (sk_test_app_\w+)/.exec(banner)![1]!;
    const number = /number:\s+(\+\d+)/.exec(banner)![1]!;
    expect(number).toBe('+15551234567');

    const created = await gql(url, key, CreateCallDocument, { input: { from: number, to: '+15005550001', metadata: { demo: true } } });
    expect(created.data!.createCall.userErrors).toEqual([]);

    // While the server runs, the CLI reuses its embedded database.
    const app = /demo application: (app_\w+)/.exec(banner)![1]!;
    const keyRun = await runCli(['keys', 'create', '--app', app, '--mode', 'test', '--json'], env);
    expect(keyRun.code).toBe(0);
    const second = JSON.parse(keyRun.stdout).key as string;
    expect((await gql(url, second, ListCallsDocument, {})).data!.calls.nodes).toHaveLength(1);
    // The banner's dashboard token, and one the CLI mints (same DATA_DIR, same generated signing key).
    const dashboardToken = /dashboard access token \(1 h; paste it at \S+\): (\S+)/.exec(banner)![1]!;
    expect((await gql(url, dashboardToken, ListCallsDocument, {})).data!.calls.nodes).toHaveLength(1);
    const minted = await runCli(['tokens', 'create', '--app', app, '--mode', 'test', '--scope', 'CALLS_READ', '--json'], env);
    expect(minted.stderr).toBe('');
    expect((await gql(url, JSON.parse(minted.stdout).token as string, ListCallsDocument, {})).data!.calls.nodes).toHaveLength(1);
    // `npx calls-gateway` without NODE_ENV runs as production: it reads the key the development start made, and never makes one.
    const asOperator = await runCli(['tokens', 'create', '--app', app, '--mode', 'test', '--scope', 'CALLS_READ', '--json'], { ...env, NODE_ENV: undefined });
    expect(asOperator.stderr).toBe('');
    expect((await gql(url, JSON.parse(asOperator.stdout).token as string, ListCallsDocument, {})).data!.calls.nodes).toHaveLength(1);

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.output()).toContain('shutting down');

    // With the server stopped, the CLI starts the embedded database itself, then stops it.
    const other = await runCli(['apps', 'create', '--name', 'offline', '--json'], env);
    expect(other.code).toBe(0);

    const again = await startServe(env);
    expect(again.output()).toContain(`application ${app} (Demo application) exists`);
    expect((await gql(url, second, ListCallsDocument, {})).data!.calls.nodes).toHaveLength(1);
    again.child.kill('SIGINT');
    expect(await again.exited).toBe(0);
  }, 120_000);
});

describe('calls-gateway serve in production', () => {
  it.each([
    ['unset', undefined],
    ['staging', 'staging'],
  ])('NODE_ENV %s: no demo application, no key printed, no introspection', async (_name, nodeEnv) => {
    const { freshDatabase } = await import('./helpers/gateway.js');
    const database = await freshDatabase();
    try {
      const started = await startServeUntil({ DATABASE_URL: database.url, PORT: String(await freePort()), NODE_ENV: nodeEnv }, /no application yet/);
      try {
        const banner = started.output();
        expect(banner).not.toMatch(/sk_test_app_|sk_live_app_|GraphiQL/);
        const apps = await runCli(['apps', 'create', '--name', 'prod', '--json'], { DATABASE_URL: database.url, NODE_ENV: nodeEnv });
        const app = JSON.parse(apps.stdout);
        const url = /listening on (http:\/\/\S+\/graphql)/.exec(banner)![1]!;
        const introspection = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${app.testKey}` },
          body: JSON.stringify({ query: '{ __schema { types { name } } }' }),
        });
        expect(introspection.status).toBe(400);
        expect(JSON.stringify(await introspection.json())).not.toMatch(/"types"/);
      } finally {
        started.child.kill('SIGTERM');
        await started.exited;
      }
    } finally {
      await database.drop();
    }
  });
});
