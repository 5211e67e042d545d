import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Kind, buildSchema, parse, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { root } from './source-files.js';

/**
 * Root fields the typed client (packages/client) leaves out on purpose, each with why. Keep it
 * short: a field here is one its users must write by hand.
 */
const NOT_IN_CLIENT: Record<string, string> = {};

const OPERATIONS = 'packages/client/src/operations';

/** Every `Type.field` of Query, Mutation and Subscription in the committed schema. */
function rootFields(): string[] {
  const schema = buildSchema(readFileSync(join(root, 'schema/schema.graphql'), 'utf8'));
  return [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].flatMap((type) =>
    type ? Object.keys(type.getFields()).map((field) => `${type.name}.${field}`) : [],
  );
}

/** The root fields the client's operations select. */
function clientFields(): Set<string> {
  const kinds = { query: 'Query', mutation: 'Mutation', subscription: 'Subscription' } as const;
  const fields = new Set<string>();
  for (const file of readdirSync(join(root, OPERATIONS)).filter((name) => name.endsWith('.graphql'))) {
    const document = parse(readFileSync(join(root, OPERATIONS, file), 'utf8'));
    for (const definition of document.definitions) {
      if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
      const operation = definition as OperationDefinitionNode;
      for (const selection of operation.selectionSet.selections) {
        if (selection.kind === Kind.FIELD) fields.add(`${kinds[operation.operation]}.${selection.name.value}`);
      }
    }
  }
  return fields;
}

describe('the typed client (packages/client)', () => {
  it('has an operation for every root field of the schema, or names it on the exclusion list with why', () => {
    const covered = clientFields();
    const missing = rootFields().filter((field) => !covered.has(field) && !(field in NOT_IN_CLIENT));
    expect(missing, 'add an operation under packages/client/src/operations, then npm run codegen').toEqual([]);
  });

  it('excludes only fields the schema still has, and none it also covers', () => {
    const fields = new Set(rootFields());
    const covered = clientFields();
    expect(Object.keys(NOT_IN_CLIENT).filter((field) => !fields.has(field) || covered.has(field))).toEqual([]);
  });
});
