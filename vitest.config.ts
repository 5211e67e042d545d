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
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    setupFiles: ['test/helpers/setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Test files run in parallel workers against one database; each test makes its own
    // applications, so they never see each other's calls.
    pool: 'forks',
    maxWorkers: 2,
  },
});
