import type http from 'node:http';
import { ROOT_CONTEXT, trace, type Span } from '@opentelemetry/api';
import { Kind, type OperationDefinitionNode } from 'graphql';
import type { Principal } from '../domain/authenticator.js';
import { SpanKind, contextOfHeaders, inSpan } from '../shared/tracing.js';

/**
 * The span of one GraphQL request over HTTP (tracing on: shared/tracing.ts), POST or GET: a child
 * of the client's `traceparent` (TRACE_CLIENT_CONTEXT=trust), or the root of a new trace linked
 * to it (`link`). Ends when `handle` has answered; the response's status is recorded.
 */
export function requestSpan(
  method: 'GET' | 'POST',
  req: http.IncomingMessage,
  res: http.ServerResponse,
  clientContext: 'trust' | 'link',
  handle: (span: Span | undefined) => Promise<void>,
): Promise<void> {
  const client = contextOfHeaders(req.headers);
  const clientSpan = trace.getSpanContext(client);
  const trust = clientContext === 'trust';
  return inSpan(
    `${method} /graphql`,
    {
      kind: SpanKind.SERVER,
      parent: trust ? client : ROOT_CONTEXT,
      links: !trust && clientSpan ? [{ context: clientSpan }] : undefined,
      attributes: { 'http.request.method': method, 'url.path': '/graphql' },
    },
    async (span) => {
      await handle(span);
      span?.setAttribute('http.response.status_code', res.statusCode);
    },
  );
}

/**
 * The operation's attributes, after the semantic conventions for GraphQL (the span is named
 * `<type> <name>`): never the document's text, its variables, the key or the token.
 */
export function describeOperation(span: Span, operation: OperationDefinitionNode, documentHash: string, principal: Principal): void {
  const name = operation.name?.value;
  span.updateName(name ? `${operation.operation} ${name}` : operation.operation);
  span.setAttributes({
    'graphql.operation.type': operation.operation,
    ...(name ? { 'graphql.operation.name': name } : {}),
    'graphql.document.hash': documentHash,
    'graphql.root_fields': operation.selectionSet.selections.flatMap((selection) => (selection.kind === Kind.FIELD ? [selection.name.value] : [])),
    'calls.app_id': principal.appId,
    'calls.mode': principal.mode,
    'calls.credential': principal.token ? 'access_token' : 'secret_key',
  });
}
