/** Writes schema/schema.graphql from the code (the resolver classes). CI fails when it drifts. */
import 'reflect-metadata';
import { writeFile } from 'node:fs/promises';
import { buildGatewaySchema, printGatewaySchema } from '../src/graphql/schema.js';

const target = new URL('../schema/schema.graphql', import.meta.url);
await writeFile(target, printGatewaySchema(await buildGatewaySchema()));
process.stdout.write(`wrote ${target.pathname}\n`);
