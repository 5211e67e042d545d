import {
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLScalarType,
  GraphQLSchema,
  GraphQLString,
  GraphQLUnionType,
  isObjectType,
  type GraphQLFieldConfigMap,
} from 'graphql';
import type { Call } from '../domain/call.js';
import type { GatewayContext } from './context.js';
import { printGatewaySchema } from './schema.js';
import { CODE, gatewayError } from './error-codes.js';

/** The Federation 2 version the subgraph links (its @key). */
const FEDERATION_LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])';
/** Representations one `_entities` request may ask for: a router batches a page's worth. */
const MAX_REPRESENTATIONS = 500;

/**
 * The subgraph's SDL, as `_service { sdl }` answers it and schema/subgraph.graphql holds it: the
 * emitted schema, with `Call` an entity keyed by `id` and the Federation 2 link.
 */
export function subgraphSdl(schema: GraphQLSchema): string {
  const sdl = printGatewaySchema(schema);
  const keyed = sdl.replace(/^type Call implements Node \{$/m, 'type Call implements Node @key(fields: "id") {');
  if (keyed === sdl) throw new Error('subgraphSdl: type Call not found where expected');
  return `${FEDERATION_LINK}\n\n${keyed}`;
}

/**
 * The schema as an Apollo Federation 2 subgraph (FEDERATION=1): the executable schema itself, with
 * the fields a router asks for (`_service`, `_entities`) and their types added, so graphql-jit,
 * the admission rules and every resolver stay as they are. Written here rather than rebuilding the
 * schema with @apollo/subgraph's buildSubgraphSchema from SDL: that would drop type-graphql's
 * resolvers, enum values and scalars, which the gateway's executors rely on; @apollo/composition
 * and @apollo/gateway check the result (test/federation.test.ts).
 *
 * `_entities` loads calls through the request's DataLoader: the caller's application, mode and
 * token filter apply, so another tenant's call, or one outside the token's filter, is null.
 */
export function federatedSchema(schema: GraphQLSchema): GraphQLSchema {
  const sdl = subgraphSdl(schema);
  const call = schema.getType('Call');
  if (!isObjectType(call)) throw new Error('federatedSchema: no Call type');
  const any = new GraphQLScalarType({
    name: '_Any',
    description: 'A representation of an entity: `__typename` and its key fields (Apollo Federation).',
    serialize: (value) => value,
    parseValue: (value) => value,
  });
  const entity = new GraphQLUnionType({ name: '_Entity', description: 'The entities of this subgraph.', types: [call], resolveType: () => 'Call' });
  const service = new GraphQLObjectType({
    name: '_Service',
    description: 'This subgraph, for a router (Apollo Federation).',
    fields: { sdl: { type: new GraphQLNonNull(GraphQLString), description: 'The subgraph SDL.' } },
  });
  const config = schema.toConfig();
  const query = schema.getQueryType()!.toConfig();
  const fields: GraphQLFieldConfigMap<unknown, GatewayContext> = {
    ...query.fields,
    _entities: {
      type: new GraphQLNonNull(new GraphQLList(entity)),
      description: 'Entities by their representations (a router resolving `Call` references); null for a call this key cannot see.',
      args: { representations: { type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(any))), description: '`{ __typename: "Call", id }` each.' } },
      resolve: (_root, args: { representations: unknown[] }, ctx) => {
        if (args.representations.length > MAX_REPRESENTATIONS) {
          throw gatewayError(CODE.BAD_USER_INPUT, `At most ${MAX_REPRESENTATIONS} representations at once`);
        }
        return args.representations.map((representation): Promise<Call | null> | null => {
          const { __typename, id } = (representation ?? {}) as { __typename?: unknown; id?: unknown };
          return __typename === 'Call' && typeof id === 'string' ? ctx.loaders.call.load(id) : null;
        });
      },
    },
    _service: { type: new GraphQLNonNull(service), description: 'This subgraph (Apollo Federation).', resolve: () => ({ sdl }) },
  };
  const federatedQuery = new GraphQLObjectType({ ...query, fields });
  return new GraphQLSchema({
    ...config,
    query: federatedQuery,
    types: [...config.types.filter((type) => type.name !== federatedQuery.name), federatedQuery, any, entity, service],
  });
}
