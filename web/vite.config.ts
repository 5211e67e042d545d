import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The browser pages the gateway serves, built at build time (no CDN at run time):
 * /dashboard (live calls) and GraphiQL at GET /graphql (development only). Assets under /ui/.
 */
const root = fileURLToPath(new URL('.', import.meta.url));
export default defineConfig({
  root,
  base: '/ui/',
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    chunkSizeWarningLimit: 4096,
    rollupOptions: {
      input: { dashboard: `${root}dashboard.html`, graphiql: `${root}graphiql.html` },
      // GraphiQL's React packages start with "use client" / "use no memo" (directives for React
      // server components and the React compiler), meaningless in this bundle: ~170 lines of
      // warnings on every build. Every other warning is still shown.
      onwarn(warning, warn) {
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
    },
  },
});
