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
});
