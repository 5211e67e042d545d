import type http from 'node:http';
import { HeaderMap, type ApolloServer } from '@apollo/server';
import type { GatewayContext } from '../graphql/context.js';
import type { OperationPipeline, PreparedContext } from './pipeline.js';

/**
 * POST /graphql straight from node:http to Apollo's `executeHTTPGraphQLRequest` (Apollo Server
 * documents this as the way to build an integration), without express: the framework's routing,
 * middleware chain and body parser were a measurable share of each request (issue 12; the bench
 * of the bare Apollo server went from 0.60× to 0.80× the REST floor this way). Everything else
 * (GET /graphql, the dashboard, probes, metrics, provider webhooks) stays on express.
 *
 * The operation pipeline (server/pipeline.ts) runs its steps here in order: the key and its rate
 * limit, then the document (a refused one is answered here, 400, as Apollo would, and recorded);
 * Apollo then takes the validated document from the context and executes it.
 */
export function graphqlPostHandler(
  apollo: ApolloServer<GatewayContext>,
  pipeline: OperationPipeline,
  options: { maxBodyBytes: number },
): (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void> {
  return async (req, res) => {
    const started = process.hrtime.bigint();
    let body: unknown;
    try {
      body = await readJsonBody(req, options.maxBodyBytes);
    } catch (error) {
      const status = (error as { status?: number }).status ?? 400;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ message: (error as Error).message, extensions: { code: status === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST' } }] }));
      return;
    }
    let context: PreparedContext | undefined;
    let refused: unknown;
    try {
      context = await pipeline.contextForRequest(req.socket.remoteAddress, req.headers.authorization, req.headers['x-request-id']);
    } catch (error) {
      refused = error;
    }
    const query = (body as { query?: unknown } | undefined)?.query;
    if (context && typeof query === 'string') {
      const entry = pipeline.prepare(query);
      if ('syntaxError' in entry || entry.errors.length > 0) {
        const refusal = pipeline.refusal(entry);
        const operationName = (body as { operationName?: unknown }).operationName;
        pipeline.recordRefusal({
          transport: 'http',
          operationName: typeof operationName === 'string' ? operationName : null,
          requestId: context.requestId,
          principal: context.principal,
          errorCodes: refusal.errors.map((error) => error.extensions?.code),
          seconds: Number(process.hrtime.bigint() - started) / 1e9,
        });
        res.writeHead(refusal.status, { 'content-type': 'application/json; charset=utf-8' });
        res.end(refusal.body);
        return;
      }
      context.prepared = entry;
    }
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const url = req.url ?? '';
    const search = url.indexOf('?');
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: 'POST', headers, search: search >= 0 ? url.slice(search) : '', body },
      // Apollo answers a refused key (401) or rate limit (429) with its status and headers.
      context: async () => {
        if (!context) throw refused;
        return context;
      },
    });
    for (const [key, value] of response.headers) res.setHeader(key, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      res.end(response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  };
}

/** The request's JSON body (undefined unless its content type is JSON, as express.json() did), at most `limit` bytes. */
function readJsonBody(req: http.IncomingMessage, limit: number): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const json = type === 'application/json' || type.endsWith('+json');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        reject(Object.assign(new Error('request entity too large'), { status: 413 }));
        req.resume();
        return;
      }
      if (json) chunks.push(chunk);
    });
    req.on('end', () => {
      if (failed) return;
      if (!json) return resolve(undefined);
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return resolve(undefined);
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(Object.assign(new Error('the body is not valid JSON'), { status: 400 }));
      }
    });
    req.on('error', reject);
  });
}
