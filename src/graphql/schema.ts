import 'reflect-metadata';
import { buildSchema } from 'type-graphql';
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { CallQueryResolver } from './resolvers/call-query.resolver.js';
import { CallEventFieldsResolver, CallFieldsResolver } from './resolvers/call-fields.resolver.js';
import { CreateCallResolver } from './resolvers/create-call.resolver.js';

export const resolvers = [CallQueryResolver, CallFieldsResolver, CallEventFieldsResolver, CreateCallResolver] as const;

/** The executable schema, built from the resolver classes (code first). */
export async function buildGatewaySchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [...resolvers],
    // Inputs are validated by the domain (userErrors), not by class-validator.
    validate: false,
    emitSchemaFile: false,
  });
}

/** The SDL committed as schema/schema.graphql: sorted, so it diffs cleanly. */
export function printGatewaySchema(schema: GraphQLSchema): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
