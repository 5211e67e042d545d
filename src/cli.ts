#!/usr/bin/env node
import 'reflect-metadata';
import { Command, Option } from 'commander';
import { ConfigError, loadConfig, type Config } from './config.js';
import { resolveAccessTokenKeys } from './shared/access-token-keys.js';
import { SecretBox } from './db/secret-box.js';
import { AdminError, AdminStore } from './db/admin-store.js';
import { openDatabase, resolveDatabaseServer, type Database } from './db/database.js';
import { resealWebhookSecrets } from './db/secret-box.js';
import { jsonLogger } from './server/logger.js';
import { MODES, type Mode } from './domain/call.js';
import { NumberRouting, PhoneNumbers } from './domain/phone-numbers.js';
import { PgPhoneNumberStore } from './db/pg-phone-number-store.js';
import { canRingWebrtc } from './config/providers.js';
import { AccessScope, AccessTokens } from './domain/access-tokens.js';
import { coerceInputValue, isInputObjectType } from 'graphql';
import { buildGatewaySchema } from './graphql/schema.js';
import { readFileSync } from 'node:fs';
import { DOCUMENTS_POLICIES, ManifestError, documentsOfManifest } from './domain/trusted-documents.js';
import { documentRefusals } from './graphql/trusted-documents.js';

/** The number the demo application gets on first start (the documentation's own example). */
const DEMO_NUMBER = '+15551234567';

/** The numbers as the gateway reads them (with the configured WhatsApp business number). */
function numberStore(database: Database, config: Config): PgPhoneNumberStore {
  return new PgPhoneNumberStore(database.sql, config.providers.whatsapp ?? null);
}

async function withDatabase<T>(config: Config, run: (database: Database) => Promise<T>): Promise<T> {
  const server = await resolveDatabaseServer(config);
  try {
    const database = await openDatabase(server.url, { poolSize: 1, migrate: true });
    try {
      return await run(database);
    } finally {
      await database.close();
    }
  } finally {
    await server.stop();
  }
}

function withAdmin<T>(config: Config, run: (admin: AdminStore) => Promise<T>): Promise<T> {
  return withDatabase(config, (database) => run(new AdminStore(database.orm.em)));
}

function print(json: boolean, value: Record<string, unknown>, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text}\n`);
}

async function serve(config: Config): Promise<void> {
  const logger = jsonLogger({ service: 'calls-gateway' }, undefined, config.logLevel);
  // Loaded only here: the admin commands need neither Apollo nor type-graphql, and start faster.
  const { startRuntime } = await import('./runtime.js');
  const runtime = await startRuntime(config, logger);
  const admin = new AdminStore(runtime.database.orm.em);
  const existing = await admin.firstApp();
  const base = runtime.gateway.url.replace(/\/graphql$/, '');
  const lines = [
    `calls gateway listening on ${runtime.gateway.url} (WebSocket: ${runtime.gateway.wsUrl})`,
    `live dashboard: ${base}/dashboard${config.production ? '' : `   GraphiQL: ${runtime.gateway.url} (in a browser)`}`,
  ];
  if (!existing && config.production) {
    // In production nothing is created behind the operator's back, and no key is ever printed.
    lines.push('no application yet: create one with `npx calls-gateway apps create --name NAME --json`');
  } else if (!existing) {
    const app = await admin.createApp('Demo application');
    await admin.assignNumber(app.id, DEMO_NUMBER);
    // A dashboard token for the first hour; `tokens create` mints more.
    const tokens = new AccessTokens(resolveAccessTokenKeys(config));
    const dashboard = tokens.enabled
      ? await tokens.create(
          { appId: app.id, mode: 'test', keyId: await admin.activeKeyId(app.id, 'test') },
          { scopes: [AccessScope.CALLS_READ, AccessScope.STATUS_SUBSCRIBE, AccessScope.CALLS_CREATE] },
        )
      : null;
    lines.push(
      `demo application: ${app.id}`,
      `  test key: ${app.testKey}   (shown once; stored only as a hash)`,
      `  number:   ${DEMO_NUMBER}`,
      ...(dashboard?.token
        ? [
            `  dashboard access token (1 h; paste it at ${base}/dashboard): ${dashboard.token}`,
            `  more: npx calls-gateway tokens create --app ${app.id} --mode test --scope CALLS_READ,STATUS_SUBSCRIBE,CALLS_CREATE --json`,
          ]
        : []),
      `try: curl -s ${runtime.gateway.url} -H 'authorization: Bearer ${app.testKey}' -H 'content-type: application/json' \\`,
      `       -d '{"query":"mutation { createCall(input: {from: \\"${DEMO_NUMBER}\\", to: \\"+15005550001\\"}) { call { id status } userErrors { code message } } }"}'`,
    );
  } else {
    lines.push(
      `application ${existing.id} (${existing.name}) exists; its keys were shown when created.`,
      `  new test key: npx calls-gateway keys create --app ${existing.id} --mode test`,
      `  dashboard token: npx calls-gateway tokens create --app ${existing.id} --mode test --scope CALLS_READ,STATUS_SUBSCRIBE,CALLS_CREATE --json`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    try {
      await runtime.stop();
      process.exit(0);
    } catch (error) {
      logger.error('shutdown failed', { error: String(error) });
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

export function buildCli(config: () => Config): Command {
  const program = new Command('calls-gateway').description('GraphQL gateway over the calls domain').showHelpAfterError();
  program
    .command('serve')
    .description('Run the gateway (what npm start runs)')
    .action(() => serve(config()));
  program
    .command('migrate')
    .description('Apply pending database migrations')
    .action(async () => {
      await withAdmin(config(), async () => undefined);
      process.stdout.write('migrations applied\n');
    });

  const apps = program.command('apps').description('Applications');
  apps
    .command('create')
    .requiredOption('--name <name>', 'application name')
    .option('--json', 'print JSON')
    .action(async (options: { name: string; json?: boolean }) => {
      const app = await withAdmin(config(), (admin) => admin.createApp(options.name));
      print(
        !!options.json,
        { id: app.id, testKey: app.testKey, liveKey: app.liveKey },
        `application ${app.id}\ntest key: ${app.testKey}\nlive key: ${app.liveKey}`,
      );
    });

  apps
    .command('list')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const list = await withAdmin(config(), (admin) => admin.listApps());
      print(
        !!options.json,
        { apps: list },
        list.length ? list.map((app) => `${app.id}  ${app.name}  (${app.numbers} number${app.numbers === 1 ? '' : 's'})`).join('\n') : 'no applications',
      );
    });

  apps
    .command('origins')
    .description("The browser origins allowed to call the gateway with the application's access tokens (CORS)")
    .requiredOption('--app <appId>', 'application id')
    .option('--set <origins>', 'comma-separated origins, e.g. https://app.example.com,http://localhost:5173 ("" allows none)')
    .option('--json', 'print JSON')
    .action(async (options: { app: string; set?: string; json?: boolean }) => {
      const origins = await withAdmin(config(), (admin) =>
        options.set === undefined ? admin.origins(options.app) : admin.setOrigins(options.app, options.set.split(',')),
      );
      print(!!options.json, { appId: options.app, origins }, origins.length ? origins.join('\n') : 'no origins allowed');
    });

  apps
    .command('documents')
    .description('Who must name registered documents (documentId) instead of sending their own: ANY (default), TRUSTED_FOR_TOKENS, TRUSTED_ONLY')
    .requiredOption('--app <appId>', 'application id')
    .addOption(new Option('--set <policy>', 'the new policy (gateways apply it within AUTH_CACHE_TTL_MS)').choices([...DOCUMENTS_POLICIES]))
    .option('--json', 'print JSON')
    .action(async (options: { app: string; set?: string; json?: boolean }) => {
      const policy = await withAdmin(config(), (admin) =>
        options.set === undefined ? admin.documentsPolicy(options.app) : admin.setDocumentsPolicy(options.app, options.set),
      );
      print(!!options.json, { appId: options.app, documentsPolicy: policy }, policy);
    });

  const documents = program.command('documents').description("Trusted documents: the operations an application's frontends ship");
  documents
    .command('push')
    .description(
      "Registers the documents of a manifest (GraphQL Code Generator client preset's persisted-documents.json: id → text), each validated first; all or none",
    )
    .requiredOption('--app <appId>', 'application id')
    .argument('<manifest>', 'path of the manifest (JSON)')
    .option('--replace', "remove the application's documents that are not in this manifest")
    .option('--json', 'print JSON')
    .action(async (manifestPath: string, options: { app: string; replace?: boolean; json?: boolean }) => {
      const loaded = config();
      let manifest: unknown;
      try {
        manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
      } catch (error) {
        throw new AdminError(`${manifestPath}: ${(error as Error).message}`);
      }
      let parsed;
      try {
        parsed = documentsOfManifest(manifest, { maxDocuments: loaded.trustedDocumentsPerApplication, maxBytes: loaded.tuning.maxRequestBytes });
      } catch (error) {
        if (error instanceof ManifestError) throw new AdminError(error.message);
        throw error;
      }
      const refusals = documentRefusals(await buildGatewaySchema(), loaded.production, parsed);
      if (refusals.length > 0) {
        throw new AdminError(`Nothing registered: ${refusals.length} problem${refusals.length === 1 ? '' : 's'}\n${refusals.slice(0, 20).join('\n')}`);
      }
      const result = await withAdmin(loaded, (admin) =>
        admin.pushDocuments(options.app, parsed, { maxDocuments: loaded.trustedDocumentsPerApplication, replace: !!options.replace }),
      );
      print(
        !!options.json,
        { appId: options.app, ...result },
        `${result.added} added, ${result.unchanged} already registered${options.replace ? `, ${result.removed} removed` : ''}; ${result.total} registered for ${options.app}`,
      );
    });
  documents
    .command('list')
    .requiredOption('--app <appId>', 'application id')
    .option('--json', "print JSON (with each document's text)")
    .action(async (options: { app: string; json?: boolean }) => {
      const list = await withAdmin(config(), (admin) => admin.listDocuments(options.app));
      print(
        !!options.json,
        { appId: options.app, documents: list },
        list.length ? list.map((document) => `${document.id}  ${document.bytes} bytes  ${document.createdAt.toISOString()}`).join('\n') : 'no documents',
      );
    });

  const numbers = program.command('numbers').description('Phone numbers');
  numbers
    .command('assign')
    .requiredOption('--app <appId>', 'application id')
    .requiredOption('--number <e164>', 'E.164 number, e.g. +15551234567')
    .option('--whatsapp-id <id>', "the number's phone-number id in Meta's WhatsApp Cloud API: a WhatsApp business number, which WhatsApp calls may come from")
    .option('--json', 'print JSON')
    .action(async (options: { app: string; number: string; whatsappId?: string; json?: boolean }) => {
      const row = await withAdmin(config(), (admin) => admin.assignNumber(options.app, options.number, { whatsappPhoneNumberId: options.whatsappId ?? null }));
      print(!!options.json, row, `${row.number} assigned to ${row.appId}${row.whatsappPhoneNumberId ? ` (WhatsApp ${row.whatsappPhoneNumberId})` : ''}`);
    });

  numbers
    .command('list')
    .requiredOption('--app <appId>', 'application id')
    .addOption(new Option('--mode <mode>', 'whose routing to show').choices([...MODES]).default('live'))
    .option('--json', 'print JSON')
    .action(async (options: { app: string; mode: Mode; json?: boolean }) => {
      const loaded = config();
      const list = await withDatabase(loaded, async (database) => {
        await new AdminStore(database.orm.em).requireAppId(options.app);
        return new PhoneNumbers(numberStore(database, loaded), { appId: options.app, mode: options.mode }, canRingWebrtc(loaded.providers)).list();
      });
      print(
        !!options.json,
        { numbers: list },
        list.length
          ? list.map((n) => `${n.number}  ${n.channels.join(',')}  ${n.routing}${n.routingTarget ? ` → ${n.routingTarget}` : ''}`).join('\n')
          : 'no numbers',
      );
    });
  numbers
    .command('route')
    .description('How calls arriving at a number are routed (in one mode)')
    .requiredOption('--app <appId>', 'application id')
    .requiredOption('--number <e164>', 'one of its numbers')
    .addOption(new Option('--routing <routing>', 'the routing').choices(Object.values(NumberRouting)).makeOptionMandatory())
    .addOption(new Option('--mode <mode>', 'the mode it applies to').choices([...MODES]).default('live'))
    .option('--to <e164>', 'forward: the number to forward to')
    .option('--identity <identity>', 'ring_webrtc: the WebRTC client identity')
    .option('--json', 'print JSON')
    .action(async (options: { app: string; number: string; routing: NumberRouting; mode: Mode; to?: string; identity?: string; json?: boolean }) => {
      const loaded = config();
      const result = await withDatabase(loaded, async (database) => {
        await new AdminStore(database.orm.em).requireAppId(options.app);
        const numbers = new PhoneNumbers(numberStore(database, loaded), { appId: options.app, mode: options.mode }, canRingWebrtc(loaded.providers));
        return numbers.setRouting({ number: options.number, routing: options.routing, forwardTo: options.to ?? null, identity: options.identity ?? null });
      });
      if (result.userErrors.length) throw new AdminError(result.userErrors.map((error) => error.message).join('; '));
      const n = result.phoneNumber!;
      print(!!options.json, { ...n, mode: options.mode }, `${n.number} (${options.mode}): ${n.routing}${n.routingTarget ? ` → ${n.routingTarget}` : ''}`);
    });

  const keys = program.command('keys').description('API keys');
  keys
    .command('create')
    .requiredOption('--app <appId>', 'application id')
    .addOption(new Option('--mode <mode>', 'key mode').choices([...MODES]).makeOptionMandatory())
    .option('--json', 'print JSON')
    .action(async (options: { app: string; mode: Mode; json?: boolean }) => {
      const key = await withAdmin(config(), (admin) => admin.createKey(options.app, options.mode));
      print(!!options.json, { id: key.id, key: key.key }, `key ${key.id}: ${key.key}`);
    });
  keys
    .command('revoke')
    .requiredOption('--key <keyId>', 'key id (key_app_…)')
    .option('--at <time>', 'when the key stops working, ISO 8601 (default: now); a later time lets a rotation overlap')
    .option('--json', 'print JSON')
    .action(async (options: { key: string; at?: string; json?: boolean }) => {
      const at = options.at === undefined ? new Date() : new Date(options.at);
      if (Number.isNaN(at.getTime()) || (options.at !== undefined && !/^\d{4}-\d{2}-\d{2}T/.test(options.at)))
        throw new AdminError(`--at must be an ISO 8601 time such as 2027-01-31T12:00:00Z, got "${options.at}"`);
      const revoked = await withAdmin(config(), (admin) => admin.revokeKey(options.key, at));
      print(!!options.json, { id: revoked.id, revokedAt: revoked.revokedAt.toISOString() }, `key ${revoked.id} revoked`);
    });
  program
    .command('tokens')
    .description('Access tokens for browsers')
    .command('create')
    .description("Mint a short-lived access token with the application's newest active key of that mode (revoking that key ends the token)")
    .requiredOption('--app <appId>', 'application id')
    .addOption(new Option('--mode <mode>', 'token mode').choices([...MODES]).makeOptionMandatory())
    .requiredOption('--scope <scopes>', `comma-separated: ${Object.values(AccessScope).join(', ')}`)
    .option('--filter <json>', 'a CallFilter as JSON, e.g. \'{"metadata":{"customerId":"c1"}}\'')
    .option('--ttl <seconds>', 'lifetime, 60 to 86400 (default 3600)')
    .option('--identity <identity>', "the one identity the holder joins a call's room as (createCallToken)")
    .option('--json', 'print JSON')
    .action(async (options: { app: string; mode: Mode; scope: string; filter?: string; ttl?: string; identity?: string; json?: boolean }) => {
      const loaded = config();
      const scopes = options.scope.split(',').map((scope) => scope.trim()) as AccessScope[];
      let filter: Record<string, unknown> | null = null;
      if (options.filter !== undefined) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(options.filter);
        } catch {
          throw new AdminError('--filter must be a JSON object (a CallFilter)');
        }
        filter = await filterAsTheApiReadsIt(parsed);
      }
      const ttlSeconds = options.ttl === undefined ? null : Number(options.ttl);
      const keyId = await withAdmin(loaded, (admin) => admin.activeKeyId(options.app, options.mode));
      const created = await new AccessTokens(resolveAccessTokenKeys(loaded)).create(
        { appId: options.app, mode: options.mode, keyId },
        { scopes, filter, ttlSeconds, participantIdentity: options.identity ?? null },
      );
      if (created.userErrors.length) throw new AdminError(created.userErrors.map((error) => error.message).join('; '));
      print(
        !!options.json,
        { token: created.token, expiresAt: created.expiresAt!.toISOString(), keyId },
        `${created.token}\n(expires ${created.expiresAt!.toISOString()}; minted with key ${keyId})`,
      );
    });
  program
    .command('secrets')
    .description('Webhook signing secrets at rest')
    .command('rotate')
    .description('Seal every stored webhook secret with the first key of SECRETS_KEY (after putting a new key first; then the old one can go)')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const loaded = config();
      if (loaded.secretKeys.length === 0) throw new AdminError('SECRETS_KEY is not set: there is no key to seal the secrets with');
      const resealed = await withDatabase(loaded, (database) => resealWebhookSecrets(database.sql, new SecretBox(loaded.secretKeys)));
      print(!!options.json, { resealed }, `${resealed} webhook secrets sealed with the current key`);
    });
  return program;
}

const isMain = process.argv[1] && import.meta.url === new URL(`file://${(await import('node:fs')).realpathSync(process.argv[1])}`).href;
if (isMain) {
  buildCli(() => loadConfig())
    .parseAsync(process.argv)
    .catch((error: unknown) => {
      if (error instanceof AdminError || error instanceof ConfigError) {
        process.stderr.write(`error: ${error.message}\n`);
      } else {
        process.stderr.write(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      }
      process.exit(1);
    });
}

/**
 * A token's --filter read exactly as createAccessToken's `filter` argument is: coerced by the
 * schema's own CallFilter input type (enum names such as COMPLETED, DateTime strings, lists),
 * so an unknown field is refused instead of being signed into a token that no Where would read
 * (a misspelt "metdata" would have let the token see every call), and a wrong type is refused
 * here rather than failing every request the token makes.
 */
async function filterAsTheApiReadsIt(value: unknown): Promise<Record<string, unknown>> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new AdminError('--filter must be a JSON object (a CallFilter)');
  const type = (await buildGatewaySchema()).getType('CallFilter');
  if (!isInputObjectType(type)) throw new Error('the schema has no CallFilter input');
  const problems: string[] = [];
  const filter = coerceInputValue(value, type, (path, _invalid, error) => problems.push(`${path.length ? `${path.join('.')}: ` : ''}${error.message}`));
  if (problems.length) throw new AdminError(`--filter is not a CallFilter: ${problems.join('; ')}`);
  return filter as Record<string, unknown>;
}
