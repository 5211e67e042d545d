import type { ApolloServerOptionsWithGateway } from '@apollo/server';
import type { GraphQLSchema } from 'graphql';
import type { Executor } from '../graphql/executor.js';

type GatewayInterface = ApolloServerOptionsWithGateway<Record<string, unknown>>['gateway'];

/**
 * An Apollo "gateway" that serves one local schema and runs operations through `executor`: Apollo
 * Server 5's documented way to replace its executor (`gateway.load()` returns `{ executor }`,
 * `onSchemaLoadOrUpdate` hands over the schema). The document comes from the operation pipeline
 * (server/pipeline.ts), validated, and every plugin hook still runs as without it.
 */
export function executorGateway(schema: GraphQLSchema, executor: Executor): GatewayInterface {
  let listener: Parameters<GatewayInterface['onSchemaLoadOrUpdate']>[0] | undefined;
  return {
    onSchemaLoadOrUpdate(callback) {
      listener = callback;
      return () => void (listener = undefined);
    },
    async load() {
      // Apollo needs the schema before load() returns (it validates documents against it).
      listener?.({ apiSchema: schema, coreSupergraphSdl: '' });
      return {
        executor: async (request) =>
          executor({
            schema: request.schema,
            document: request.document,
            operationName: request.request.operationName,
            variableValues: request.request.variables,
            contextValue: request.context,
          }),
      };
    },
    async stop() {},
  };
}
