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
    rollupOptions: { input: { dashboard: `${root}dashboard.html`, graphiql: `${root}graphiql.html` } },
  },
});
