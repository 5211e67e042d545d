/**
 * The database schema's house tools, over the MikroORM entities (src/db/entities), which are its
 * one source:
 *   npm run db:diff                 what the entities and the migrated database disagree on
 *   npm run db:migration -- <name>  a new migration, made by MikroORM's migrator from that diff
 * Both migrate a scratch database first (DATABASE_URL's server, database `calls_schema_scratch`).
 */
import 'reflect-metadata';
import { readFile, writeFile } from 'node:fs/promises';
import { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { schemaDrift } from '../src/db/database.js';
import { ormConfig } from '../src/db/mikro-orm.config.js';

const [command, name] = process.argv.slice(2);
const server = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const scratch = 'calls_schema_scratch';

const admin = new pg.Client({ connectionString: server });
await admin.connect();
await admin.query(`drop database if exists ${scratch}`);
await admin.query(`create database ${scratch}`);
const url = new URL(server);
url.pathname = `/${scratch}`;
const orm = await MikroORM.init(
  ormConfig(url.toString(), { migrations: { ...ormConfig('').migrations, path: 'src/db/migrations', pathTs: 'src/db/migrations', emit: 'ts' } }),
);
try {
  await orm.getMigrator().up();
  if (command === 'diff') {
    const sql = await schemaDrift(orm);
    process.stdout.write(sql ? `${sql}\n` : 'entities and database agree\n');
    process.exitCode = sql ? 1 : 0;
  } else if (command === 'migration' && name) {
    const result = await orm.getMigrator().createMigration('src/db/migrations', false, false, name);
    if (result.fileName) {
      // Listed, not globbed (see migrations-list.ts): the new class goes at the end of the list.
      const className = result.fileName.replace(/\.ts$/, '');
      const listPath = 'src/db/migrations/migrations-list.ts';
      const list = (await readFile(listPath, 'utf8'))
        .replace(/\n\n\/\*\*/, `\nimport { ${className} } from './${className}.js';\n\n/**`)
        .replace(/\n\];\n$/, `\n  { name: '${className}', class: ${className} },\n];\n`);
      await writeFile(listPath, list);
      process.stdout.write(`wrote src/db/migrations/${result.fileName} and listed it; say in it why\n`);
    } else {
      process.stdout.write('no change: the entities and the migrations agree\n');
    }
  } else {
    process.stderr.write('usage: db-schema.ts diff | migration <name>\n');
    process.exitCode = 2;
  }
} finally {
  await orm.close();
  await admin.query(`drop database if exists ${scratch}`);
  await admin.end();
}
