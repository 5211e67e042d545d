/**
 * Bench children 2 and 3: a bare Apollo Server 5 on its documented express 5 integration, with a
 * hand-written SDL of the same shape, the same scalars (graphql-scalars) and the same Apollo
 * settings (cache-control and landing page plugins disabled, CSRF prevention on), but no auth,
 * no validation, no service layer: each resolver sends exactly the statement the gateway sends
 * (createCall: the call + its INITIATED event in one CTE; calls: one SELECT). With `jit`, it
 * executes through graphql-jit behind Apollo's gateway executor hook, the gateway's own
 * executor (src/graphql/executor.ts, src/server/apollo-executor.ts): the second baseline.
 * Resolvers return values, not functions (graphql-jit does not call function-valued properties).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import pg from 'pg';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { DateTimeResolver, JSONObjectResolver } from 'graphql-scalars';
import { newCallId, newEventId } from '../src/domain/ids.js';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { createExecutor } from '../src/graphql/executor.js';
import { executorGateway } from '../src/server/apollo-executor.js';
import { INSERT_CALL, INSERT_CALL_NAME, callCursor, listPage, insertCallValues, readServerOptions, type StartedServer } from './shared.js';

export const typeDefs = /* GraphQL */ `
  scalar DateTime
  scalar JSONObject

  enum Channel {
    PSTN
    WEBRTC
    WHATSAPP
  }
  enum CallDirection {
    OUTBOUND
    INBOUND
  }
  enum CallStatus {
    INITIATED
    RINGING
    IN_PROGRESS
    VOICEMAIL
    COMPLETED
    FAILED
    BUSY
    NO_ANSWER
    CANCELED
  }
  enum UserErrorCode {
    INVALID_PHONE_NUMBER
    PHONE_NUMBER_NOT_ASSIGNED
    INVALID_ADDRESS
    INVALID_METADATA
    IDEMPOTENCY_KEY_REUSED
    CALL_NOT_FOUND
    CALL_NOT_ACTIVE
    COMMAND_NOT_ALLOWED
    PROVIDER_NOT_CONFIGURED
    PROVIDER_ERROR
    RATE_LIMITED
  }

  interface Node {
    id: ID!
  }

  type Call implements Node {
    id: ID!
    appId: ID!
    direction: CallDirection!
    status: CallStatus!
    fromAddress: String!
    toAddress: String!
    fromChannel: Channel!
    toChannel: Channel!
    duration: Int
    endReason: String
    metadata: JSONObject!
    livekitRoomName: String
    startedAt: DateTime
    answeredAt: DateTime
    endedAt: DateTime
    createdAt: DateTime!
  }

  type PageInfo {
    hasNextPage: Boolean!
    hasPreviousPage: Boolean!
    startCursor: String
    endCursor: String
  }
  type CallEdge {
    cursor: String!
    node: Call!
  }
  type CallConnection {
    edges: [CallEdge!]!
    nodes: [Call!]!
    pageInfo: PageInfo!
  }

  input CallFilter {
    status: [CallStatus!]
  }

  type Query {
    calls(filter: CallFilter, first: Int, after: String): CallConnection!
  }

  input CreateCallInput {
    from: String!
    to: String!
    fromChannel: Channel = PSTN
    toChannel: Channel = PSTN
    metadata: JSONObject
    idempotencyKey: String
  }
  type UserError {
    field: [String!]
    message: String!
    code: UserErrorCode!
  }
  type CreateCallPayload {
    call: Call
    userErrors: [UserError!]!
    replayed: Boolean!
  }

  type Mutation {
    createCall(input: CreateCallInput!): CreateCallPayload!
  }
`;

/** GraphQL enum name → the lowercase value stored in the database (as the gateway maps them). */
const lower = (names: string[]) => Object.fromEntries(names.map((name) => [name, name.toLowerCase()]));

interface Row {
  id: string;
  createdAt: Date;
}

/** The resolvers of the bare servers (Apollo and Mercurius): each sends exactly the gateway's statement. */
export function bareResolvers(pool: pg.Pool, appId: string) {
  const options = { appId };
  return {
    DateTime: DateTimeResolver,
    JSONObject: JSONObjectResolver,
    Channel: lower(['PSTN', 'WEBRTC', 'WHATSAPP']),
    CallDirection: lower(['OUTBOUND', 'INBOUND']),
    CallStatus: lower(['INITIATED', 'RINGING', 'IN_PROGRESS', 'VOICEMAIL', 'COMPLETED', 'FAILED', 'BUSY', 'NO_ANSWER', 'CANCELED']),
    Node: { __resolveType: () => 'Call' },
    CallConnection: { edges: (connection: { nodes: Row[] }) => connection.nodes.map((node) => ({ cursor: callCursor(node), node })) },
    Query: {
      async calls(_: unknown, args: { filter?: { status?: string[] } | null; first?: number | null; after?: string | null }) {
        const limit = args.first ?? 20;
        const rows = await listPage(pool, options.appId, args.filter?.status ?? [], limit, args.after);
        const hasNextPage = rows.length > limit;
        if (hasNextPage) rows.pop();
        return {
          nodes: rows,
          pageInfo: {
            hasNextPage,
            hasPreviousPage: false,
            startCursor: rows[0] ? callCursor(rows[0]) : null,
            endCursor: rows.length ? callCursor(rows.at(-1)!) : null,
          },
        };
      },
    },
    Mutation: {
      async createCall(
        _: unknown,
        { input }: { input: { from: string; to: string; fromChannel: string; toChannel: string; metadata?: Record<string, unknown> | null } },
      ) {
        const values = insertCallValues({
          id: newCallId('test'),
          eventId: newEventId(),
          appId: options.appId,
          from: input.from,
          to: input.to,
          fromChannel: input.fromChannel,
          toChannel: input.toChannel,
          metadata: input.metadata ?? {},
        });
        const { rows } = await pool.query<Row>({ name: INSERT_CALL_NAME, text: INSERT_CALL, values });
        return rows[0]
          ? { call: rows[0], userErrors: [], replayed: false }
          : { call: null, userErrors: [{ field: ['input', 'from'], message: 'not assigned', code: 'PHONE_NUMBER_NOT_ASSIGNED' }], replayed: false };
      },
    },
  };
}

export async function startBareApollo(jit: boolean): Promise<StartedServer> {
  const options = readServerOptions();
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize, idleTimeoutMillis: 30_000 });
  pool.on('error', () => {});
  const resolvers = bareResolvers(pool, options.appId);

  const app = express();
  app.disable('x-powered-by');
  const httpServer = http.createServer(app);
  const schema = makeExecutableSchema({ typeDefs, resolvers });
  const apollo = new ApolloServer({
    ...(jit ? { gateway: executorGateway(schema, createExecutor(schema, 'jit')) } : { schema }),
    plugins: [ApolloServerPluginDrainHttpServer({ httpServer }), ApolloServerPluginCacheControlDisabled(), ApolloServerPluginLandingPageDisabled()],
  });
  await apollo.start();
  app.use('/graphql', express.json({ limit: '100kb' }), expressMiddleware(apollo));
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  return {
    port: (httpServer.address() as AddressInfo).port,
    async stop() {
      await apollo.stop();
      await pool.end();
    },
  };
}
