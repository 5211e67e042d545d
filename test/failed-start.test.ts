import net from 'node:net';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';
import { silentLogger } from '../src/domain/logger.js';
import { startGateway } from '../src/server/app.js';
import { eventually, freshDatabase } from './helpers/gateway.js';

// A gateway that cannot start (its port is taken) must stop what it had started: the event bus's
// LISTEN connection, the event log, the simulator, the workers. Before, they kept running: the
// database kept a connection of the failed gateway, and a `serve` on a busy port did not exit.
describe('a start that fails half-way', () => {
  it('a port in use: startGateway rejects and leaves nothing running on the database', async () => {
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as net.AddressInfo).port;
    const fresh = await freshDatabase();
    const database = await openDatabase(fresh.url, { poolSize: 2, migrate: false });
    const name = new URL(fresh.url).pathname.slice(1);
    const admin = new pg.Client({ connectionString: fresh.url.replace(/\/[^/]+$/, '/postgres') });
    await admin.connect();
    try {
      const config = loadConfig({ NODE_ENV: 'test', SIMULATOR_TIME_SCALE: '0.01', EVENT_POLL_MS: '50' }, { port, host: '127.0.0.1', databaseUrl: fresh.url });
      await expect(startGateway(config, { database, logger: silentLogger })).rejects.toThrow(/EADDRINUSE/);
      // The caller closes its own pool; then no connection of the failed gateway may remain.
      await database.close();
      const backends = async () =>
        Number((await admin.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1', [name])).rows[0]!.n);
      await eventually(async () => (await backends()) === 0, 5_000, 'no backend of the failed gateway left');
      // And it stays so: no timer of the failed gateway reconnects (the event log polls every 50 ms).
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await backends()).toBe(0);
    } finally {
      await admin.end();
      await new Promise((resolve) => busy.close(resolve));
      await fresh.drop();
    }
  });
});
