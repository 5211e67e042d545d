/**
 * Bench child 3, the floor: plain REST on node:http + pg + JSON.stringify, no framework, no
 * GraphQL, no auth. POST /calls and GET /calls?status=completed&limit=50, same SQL as the gateway.
 * Its dates are written with the gateway's isoDateTime (the text Date#toJSON gives, at a fifth of
 * its cost), as the gateway's DateTime scalar writes them: the floor does no more work than the
 * gateway for the same answer. For the same reason it reads timestamps with the gateway's
 * parser (src/db/pg-timestamps.ts), not pg's own.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { newCallId, newEventId } from '../src/domain/ids.js';
import { isoDateTime } from '../src/shared/iso-date.js';
import { pgTypes } from '../src/db/pg-timestamps.js';
import { INSERT_CALL, INSERT_CALL_NAME, callCursor, listPage, insertCallValues, readServerOptions, serveChild } from './shared.js';

interface Row {
  id: string;
  createdAt: Date;
  [column: string]: unknown;
}

const DATE_COLUMNS = ['startedAt', 'answeredAt', 'endedAt', 'createdAt'] as const;

/** The row with its dates as their JSON text (in place: the row is not used after). */
function withIsoDates(row: Row): Record<string, unknown> {
  const out: Record<string, unknown> = row;
  for (const column of DATE_COLUMNS) {
    const value = out[column];
    if (value instanceof Date) out[column] = isoDateTime(value);
  }
  return out;
}

serveChild(async () => {
  const options = readServerOptions();
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize, idleTimeoutMillis: 30_000, types: pgTypes });
  pool.on('error', () => {});

  const send = (res: http.ServerResponse, status: number, value: unknown) => {
    const body = JSON.stringify(value);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };

  const readJson = (req: http.IncomingMessage): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
        } catch (error) {
          reject(error as Error);
        }
      });
      req.on('error', reject);
    });

  const server = http.createServer((req, res) => {
    const handle = async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== '/calls') return send(res, 404, { error: 'not_found' });
      if (req.method === 'POST') {
        const input = await readJson(req);
        const id = newCallId('test');
        const values = insertCallValues({
          id,
          eventId: newEventId(),
          appId: options.appId,
          from: String(input.from),
          to: String(input.to),
          fromChannel: typeof input.fromChannel === 'string' ? input.fromChannel : 'pstn',
          toChannel: typeof input.toChannel === 'string' ? input.toChannel : 'pstn',
          metadata: (input.metadata as Record<string, unknown> | undefined) ?? {},
        });
        const { rows } = await pool.query<Row>({ name: INSERT_CALL_NAME, text: INSERT_CALL, values });
        if (!rows[0]) return send(res, 422, { error: 'phone_number_not_assigned' });
        return send(res, 201, { call: withIsoDates(rows[0]) });
      }
      if (req.method === 'GET') {
        const limit = Math.min(Number(url.searchParams.get('limit') ?? 20), 100);
        const statuses = url.searchParams.getAll('status');
        const rows = await listPage(pool, options.appId, statuses, limit, url.searchParams.get('after'));
        const hasMore = rows.length > limit;
        if (hasMore) rows.pop();
        const last = rows.at(-1);
        const nextCursor = last ? callCursor(last) : null;
        return send(res, 200, { calls: rows.map(withIsoDates), hasMore, nextCursor });
      }
      return send(res, 405, { error: 'method_not_allowed' });
    };
    handle().catch((error: unknown) => {
      process.stderr.write(`rest: ${String(error)}\n`);
      if (!res.headersSent) send(res, 500, { error: 'internal' });
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool.end();
    },
  };
});
