/**
 * The layers of src/ and the direction they point (issue 13). `npm test` runs this
 * (`npm run lint:deps`); a change that breaks a rule fails CI.
 *
 *   domain      the calls domain: entities, rules, services and the ports they need
 *               (ChannelProvider, stores, Logger); imports no other layer
 *   db          PostgreSQL: stores, the event log's tables, migrations (the only SQL)
 *   events      the event log, streams and buses (over the domain's ports)
 *   providers   channel providers (Telnyx, LiveKit, WhatsApp, the simulator)
 *   customer-webhooks  outbound webhooks to the applications' endpoints (signed, retried)
 *   graphql     the schema, resolvers, execution
 *   server      HTTP and WebSocket, composition (app.ts and the builders of server/parts), operations
 *   config      config.ts and config/: every environment variable, read once; imports no layer
 *   shared      small utilities every layer may use (the background-loop runners); imports none of them
 *   cli/runtime the process
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'Modules may not depend on each other in a cycle.', from: { path: '^src' }, to: { circular: true } },
    {
      name: 'domain-is-the-core',
      severity: 'error',
      comment: 'The domain imports no other layer of the gateway, and no framework, database or provider SDK.',
      from: { path: '^src/domain/' },
      to: {
        path: [
          '^src/(db|events|graphql|server|providers|customer-webhooks)/',
          '^src/(cli|runtime|config)\\.ts$',
          '^src/config/',
          'node_modules/(pg|@mikro-orm|graphql|type-graphql|@apollo|express|ws|graphql-ws|ioredis|livekit-server-sdk|telnyx|pino)/',
        ],
      },
    },
    {
      name: 'config-imports-no-layer',
      severity: 'error',
      comment: 'The configuration (config.ts, config/) is read before any layer is built: it imports none of them, only src/shared.',
      from: { path: ['^src/config\\.ts$', '^src/config/'] },
      to: { path: '^src/(domain|db|events|graphql|server|providers|customer-webhooks)/' },
    },
    {
      name: 'shared-stands-alone',
      severity: 'error',
      comment: 'src/shared holds utilities any layer may use, so it imports no layer of the gateway.',
      from: { path: '^src/shared/' },
      to: { path: '^src/(?!shared/)' },
    },
    {
      name: 'sql-only-in-db',
      severity: 'error',
      comment: 'Only src/db talks to PostgreSQL (pg, MikroORM at run time); other layers use its stores.',
      from: { path: '^src/', pathNot: ['^src/db/', '^src/(cli|runtime)\\.ts$'] },
      to: { path: 'node_modules/(pg|pg-pool|@mikro-orm)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-graphql-below-graphql',
      severity: 'error',
      comment: 'GraphQL is an adapter: db, events, providers and customer webhooks know nothing of it.',
      from: { path: '^src/(db|events|providers|customer-webhooks)/' },
      to: { path: ['^src/(graphql|server)/', 'node_modules/(graphql|type-graphql|@apollo|graphql-ws|graphql-jit)/'] },
    },
    {
      name: 'providers-below-server',
      severity: 'error',
      comment: 'Providers know the domain, not the HTTP server or the GraphQL layer.',
      from: { path: '^src/providers/' },
      to: { path: '^src/(server|graphql|customer-webhooks)/' },
    },
    {
      name: 'no-orphans',
      severity: 'error',
      comment: 'A file nothing imports is dead code.',
      from: { orphan: true, path: '^src/', pathNot: ['\\.d\\.ts$', '^src/cli\\.ts$', '^src/db/migrations/'] },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.build.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js'] },
    includeOnly: '^(src|node_modules)',
  },
};
