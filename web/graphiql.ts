import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { createClient, type Client } from 'graphql-ws';
import { parse, type OperationDefinitionNode } from 'graphql';
import 'graphiql/graphiql.css';

/**
 * GraphiQL, bundled (Apollo's landing page loads from a CDN, which a closed network cannot reach).
 * Queries and mutations go over HTTP with the headers of the Headers tab; subscriptions over
 * graphql-ws on the same path, authenticated with the same Authorization value.
 */
const httpUrl = `${location.origin}/graphql`;
const wsUrl = httpUrl.replace(/^http/, 'ws');
const clients = new Map<string, Client>();

function wsClient(authorization: string): Client {
  let client = clients.get(authorization);
  if (!client) {
    client = createClient({ url: wsUrl, connectionParams: { authorization }, lazy: true, retryAttempts: 3 });
    clients.set(authorization, client);
  }
  return client;
}

function isSubscription(query: string, operationName?: string | null): boolean {
  try {
    const operations = parse(query).definitions.filter((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition');
    const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations[0];
    return operation?.operation === 'subscription';
  } catch {
    return false;
  }
}

type Params = { query: string; operationName?: string | null; variables?: Record<string, unknown> | null };
const fetcher = (params: Params, options?: { headers?: Record<string, unknown> }) => {
  const headers = (options?.headers ?? {}) as Record<string, string>;
  const authorization = headers.Authorization ?? headers.authorization ?? '';
  if (isSubscription(params.query, params.operationName)) {
    return wsClient(authorization).iterate({ query: params.query, operationName: params.operationName ?? undefined, variables: params.variables ?? undefined });
  }
  return fetch(httpUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(params) }).then((response) =>
    response.json(),
  );
};

const defaultQuery = `# A test key (sk_test_app_…) goes in the Headers tab below.
query RecentCalls {
  calls(first: 10) {
    totalCount
    nodes { id status fromAddress toAddress createdAt }
  }
}
`;

createRoot(document.getElementById('graphiql')!).render(
  createElement(GraphiQL, {
    fetcher: fetcher as never,
    defaultQuery,
    // ASCII only: a header value is Latin-1 (an ellipsis here made fetch throw).
    defaultHeaders: JSON.stringify({ Authorization: 'Bearer sk_test_app_REPLACE_WITH_YOUR_KEY' }, null, 2),
    shouldPersistHeaders: false,
    isHeadersEditorEnabled: true,
  }),
);
