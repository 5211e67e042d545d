import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';

/** dist/web, built by `npm run build` (Vite), whether this file runs from src/ (tests) or dist/src/. */
function webDir(): string {
  const here = fileURLToPath(import.meta.url);
  const root = here.includes(`${path.sep}dist${path.sep}src${path.sep}`)
    ? here.split(`${path.sep}dist${path.sep}src${path.sep}`)[0]!
    : here.split(`${path.sep}src${path.sep}`)[0]!;
  return path.join(root, 'dist', 'web');
}

/**
 * The browser pages, from the Vite build (no CDN at run time): /dashboard always, and GraphiQL
 * for a browser's GET /graphql outside production. A missing build is a clear 503, not a crash.
 */
export function mountWeb(app: express.Express, options: { production: boolean }): void {
  const dir = webDir();
  const page = (name: string) => (_req: express.Request, res: express.Response) => {
    const file = path.join(dir, name);
    if (!existsSync(file)) return void res.status(503).type('text/plain').send('The web pages are not built: run `npm run build`.');
    res.setHeader('cache-control', 'no-store');
    // The pages load only their own bundled assets and talk only to this origin.
    res.setHeader(
      'content-security-policy',
      "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self' 'unsafe-inline'; font-src 'self' data:; worker-src 'self' blob:",
    );
    res.sendFile(file);
  };
  app.use('/ui', express.static(dir, { index: false, immutable: true, maxAge: '1y' }));
  app.get('/dashboard', page('dashboard.html'));
  if (!options.production) {
    app.get('/graphql', (req, res, next) => {
      // A browser asks for HTML; clients asking for JSON (GET queries are refused by CSRF prevention) go on to Apollo.
      if (req.accepts(['application/json', 'text/html']) === 'text/html' && !req.query.query) return page('graphiql.html')(req, res);
      next();
    });
  }
}
