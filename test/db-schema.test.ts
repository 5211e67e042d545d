import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, schemaDrift, type Database } from '../src/db/database.js';
import { freshDatabase } from './helpers/gateway.js';

/**
 * The entities are the database schema's one source: the migrations, applied to an empty
 * database (the run's template, see global-setup.ts), must give exactly what they declare.
 * A change to an entity without its migration (`npm run db:migration -- <name>`), or a
 * migration that changes what no entity declares, fails here.
 */
describe('database schema', () => {
  let fresh: { url: string; drop(): Promise<void> };
  let database: Database;

  beforeAll(async () => {
    fresh = await freshDatabase();
    database = await openDatabase(fresh.url, { poolSize: 1, migrate: true });
  });
  afterAll(async () => {
    await database.close();
    await fresh.drop();
  });

  it('the migrated database is what the entities declare', async () => {
    expect(await schemaDrift(database.orm)).toBe('');
    expect(await database.orm.getMigrator().checkMigrationNeeded()).toBe(false);
    expect(await database.orm.getMigrator().getPendingMigrations()).toEqual([]);
  });

  it('a column, check or foreign key the migrations lack is reported', async () => {
    await database.sql.query('ALTER TABLE call DROP COLUMN on_hold');
    await database.sql.query('ALTER TABLE call_event DROP CONSTRAINT call_event_type_check');
    await database.sql.query('ALTER TABLE webhook_delivery DROP CONSTRAINT webhook_delivery_app_id_foreign');
    const drift = await schemaDrift(database.orm);
    expect(drift).toContain('add column "on_hold" boolean not null default false');
    expect(drift).toContain('add constraint "call_event_type_check"');
    expect(drift).toContain('add constraint "webhook_delivery_app_id_foreign" foreign key ("app_id") references "application" ("id")');
  });

  it('Migration20261203082104 moves the room of non-WebRTC calls to room_name, and back down', async () => {
    const other = await freshDatabase();
    const db = await openDatabase(other.url, { poolSize: 1, migrate: false });
    try {
      const migrator = db.orm.getMigrator();
      await migrator.down({ to: 'Migration20261202190231_TenantKeysAndKindChecks' });
      // Rows as the gateway wrote them before: a room on every call but PSTN to PSTN.
      await db.sql.query(`INSERT INTO application (id, name) VALUES ('app_m', 'm')`);
      const pairs: [string, string, string | null][] = [
        ['call_a', 'pstn', null],
        ['call_b', 'webrtc', 'call_b'],
        ['call_c', 'whatsapp', 'call_c'],
      ];
      for (const [id, toChannel, room] of pairs) {
        await db.sql.query(
          `INSERT INTO call (id, app_id, mode, direction, status, from_address, to_address, from_channel, to_channel, livekit_room_name, last_sequence)
           VALUES ($1, 'app_m', 'test', 'outbound', 'initiated', '+15551234567', '+15557654321', 'pstn', $2, $3, 1)`,
          [id, toChannel, room],
        );
      }
      await migrator.up();
      const rows = async () => db.sql.query(`SELECT id, livekit_room_name AS "livekitRoomName", room_name AS "roomName" FROM call ORDER BY id`);
      expect(await rows()).toEqual([
        { id: 'call_a', livekitRoomName: null, roomName: null },
        { id: 'call_b', livekitRoomName: 'call_b', roomName: 'call_b' },
        { id: 'call_c', livekitRoomName: null, roomName: 'call_c' },
      ]);
      await migrator.down({ to: 'Migration20261202190231_TenantKeysAndKindChecks' });
      expect(await db.sql.query(`SELECT id, livekit_room_name AS "livekitRoomName" FROM call ORDER BY id`)).toEqual([
        { id: 'call_a', livekitRoomName: null },
        { id: 'call_b', livekitRoomName: 'call_b' },
        { id: 'call_c', livekitRoomName: 'call_c' },
      ]);
    } finally {
      await db.close();
      await other.drop();
    }
  });
});
