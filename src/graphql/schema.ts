import 'reflect-metadata';
import { buildSchema } from 'type-graphql';
import { createPubSub } from '@graphql-yoga/subscription';
import { isInterfaceType, lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { CallQueryResolver } from './resolvers/call-query.resolver.js';
import { CallCommandFieldsResolver, CallEventFieldsResolver, CallFieldsResolver, RecordingFieldsResolver } from './resolvers/call-fields.resolver.js';
import { CreateCallResolver } from './resolvers/create-call.resolver.js';
import { CallStatusResolver } from './resolvers/call-status.resolver.js';
import { CallCommandsResolver } from './resolvers/call-commands.resolver.js';
import { CallTokenResolver } from './resolvers/call-token.resolver.js';
import { AccessTokenResolver } from './resolvers/access-token.resolver.js';
import { PhoneNumbersResolver } from './resolvers/phone-numbers.resolver.js';
import { WebhookDeliveryFieldsResolver, WebhookEndpointFieldsResolver, WebhooksResolver } from './resolvers/webhooks.resolver.js';

const resolvers = [
  CallQueryResolver,
  CallFieldsResolver,
  CallEventFieldsResolver,
  RecordingFieldsResolver,
  CallCommandFieldsResolver,
  CreateCallResolver,
  CallCommandsResolver,
  CallTokenResolver,
  AccessTokenResolver,
  WebhooksResolver,
  WebhookEndpointFieldsResolver,
  WebhookDeliveryFieldsResolver,
  CallStatusResolver,
  PhoneNumbersResolver,
] as const;

/** The executable schema, built from the resolver classes (code first). */
export async function buildGatewaySchema(): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers: [...resolvers],
    // Inputs are validated by the domain (userErrors), not by class-validator.
    validate: false,
    emitSchemaFile: false,
    // type-graphql refuses to build subscriptions without a PubSub, even when, as here, every
    // subscription has its own `subscribe` (the event log's stream). This one carries nothing.
    pubSub: createPubSub(),
  });
  // type-graphql wraps resolveType in an async function; graphql-jit calls it synchronously. Call
  // is the only type implementing Node, so Node resolves to it at once (graphql-js alike).
  const node = schema.getType('Node');
  if (isInterfaceType(node)) node.resolveType = () => 'Call';
  // type-graphql has no option to describe the root types.
  const roots = { Query: schema.getQueryType(), Mutation: schema.getMutationType(), Subscription: schema.getSubscriptionType() };
  for (const [name, type] of Object.entries(roots)) {
    if (type) type.description = ROOT_DESCRIPTIONS[name as keyof typeof roots];
  }
  return schema;
}

const ROOT_DESCRIPTIONS = {
  Query: "Reads. Every field sees only the calls of the API key's application, in the key's mode (test or live).",
  Mutation: 'Writes. Expected failures come back in `userErrors`, with a code and the path of the field at fault.',
  Subscription: 'Live updates over WebSocket (graphql-transport-ws), authenticated in connection_init.',
};

/** The SDL committed as schema/schema.graphql: sorted, so it diffs cleanly. */
export function printGatewaySchema(schema: GraphQLSchema): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
