import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql 16 has no "exports": Node loads its CJS build (index.js) for every importer, while
    // Vite would pick index.mjs for our sources: two copies, and "Cannot use GraphQLScalarType
    // from another module or realm". Point Vite at the file Node uses.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    setupFiles: ['test/helpers/setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Test files run in parallel workers against one database; each test makes its own
    // applications, so they never see each other's calls.
    pool: 'forks',
    maxWorkers: 2,
    // `npm test` runs all three; one alone: `npx vitest run --project unit` (or integration, browser).
    projects: [
      // No database, no server: the domain's rules, the schema, the layer checks.
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      // Real gateways on a real PostgreSQL (embedded, or DATABASE_URL), over HTTP and WebSocket.
      { extends: true, test: { name: 'integration', include: ['test/*.test.ts'], globalSetup: ['test/helpers/global-setup.ts'] } },
      // The dashboard and GraphiQL in Debian's Chromium (also needs the database).
      { extends: true, test: { name: 'browser', include: ['test/browser/**/*.test.ts'], globalSetup: ['test/helpers/global-setup.ts'] } },
    ],
  },
});
