import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'graphql';
import { composeServices } from '@apollo/composition';
import { buildGatewaySchema, printGatewaySchema } from '../../src/graphql/schema.js';
import { subgraphSdl } from '../../src/graphql/federation.js';

describe('schema/schema.graphql', () => {
  it('is what the code emits (run `npm run schema:emit` after changing the API)', async () => {
    const committed = await readFile(new URL('../../schema/schema.graphql', import.meta.url), 'utf8');
    expect(printGatewaySchema(await buildGatewaySchema())).toBe(committed);
  });

  it('schema/subgraph.graphql (FEDERATION=1) is what the code emits, and composes as a Federation 2 subgraph', async () => {
    const committed = await readFile(new URL('../../schema/subgraph.graphql', import.meta.url), 'utf8');
    expect(subgraphSdl(await buildGatewaySchema())).toBe(committed);
    const composed = composeServices([{ name: 'calls', typeDefs: parse(committed) }]);
    expect(composed.errors ?? []).toEqual([]);
  });

  it('describes every type, field and argument', async () => {
    const schema = await buildGatewaySchema();
    const missing: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__') || ['String', 'Int', 'Boolean', 'ID', 'Float'].includes(type.name)) continue;
      if (!type.description) missing.push(type.name);
      if ('getFields' in type) {
        for (const field of Object.values(type.getFields())) {
          if (!field.description) missing.push(`${type.name}.${field.name}`);
          for (const arg of 'args' in field ? field.args : []) {
            if (!arg.description) missing.push(`${type.name}.${field.name}(${arg.name})`);
          }
        }
      }
      if ('getValues' in type) {
        for (const value of type.getValues()) if (!value.description) missing.push(`${type.name}.${value.name}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
