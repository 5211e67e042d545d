/**
 * Writes schema/schema.graphql (and schema/subgraph.graphql, the Federation 2 subgraph's SDL) from
 * the code (the resolver classes). CI fails when either drifts.
 */
import 'reflect-metadata';
import { writeFile } from 'node:fs/promises';
import { buildGatewaySchema, printGatewaySchema } from '../src/graphql/schema.js';
import { subgraphSdl } from '../src/graphql/federation.js';

const schema = await buildGatewaySchema();
for (const [file, text] of [
  ['schema.graphql', printGatewaySchema(schema)],
  ['subgraph.graphql', subgraphSdl(schema)],
] as const) {
  const target = new URL(`../schema/${file}`, import.meta.url);
  await writeFile(target, text);
  process.stdout.write(`wrote ${target.pathname}\n`);
}
