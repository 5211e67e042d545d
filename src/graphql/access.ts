import {
  Kind,
  OperationTypeNode,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type FragmentDefinitionNode,
  type GraphQLError,
  type SelectionSetNode,
} from 'graphql';
import { AccessScope } from '../domain/access-tokens.js';
import type { Principal } from '../domain/authenticator.js';
import { forbidden } from './errors.js';

/**
 * What an access token needs for each root field. A field not listed (webhook endpoints,
 * phone numbers and their routing, the test-mode simulator, status callback secrets,
 * createAccessToken itself) needs the secret key: a browser never manages the application.
 */
const ROOT_FIELD_SCOPES: Readonly<Record<string, AccessScope>> = {
  'Query.call': AccessScope.CALLS_READ,
  'Query.node': AccessScope.CALLS_READ,
  'Query.calls': AccessScope.CALLS_READ,
  'Query.callStats': AccessScope.CALLS_READ,
  // FEDERATION=1: a router resolving Call references, or reading the subgraph's SDL.
  'Query._entities': AccessScope.CALLS_READ,
  'Query._service': AccessScope.CALLS_READ,
  'Subscription.callStatus': AccessScope.STATUS_SUBSCRIBE,
  'Mutation.createCall': AccessScope.CALLS_CREATE,
  'Mutation.answerCall': AccessScope.CALLS_COMMAND,
  'Mutation.rejectCall': AccessScope.CALLS_COMMAND,
  'Mutation.hangupCall': AccessScope.CALLS_COMMAND,
  'Mutation.holdCall': AccessScope.CALLS_COMMAND,
  'Mutation.unholdCall': AccessScope.CALLS_COMMAND,
  'Mutation.muteCall': AccessScope.CALLS_COMMAND,
  'Mutation.unmuteCall': AccessScope.CALLS_COMMAND,
  'Mutation.sendDtmf': AccessScope.CALLS_COMMAND,
  'Mutation.sendToVoicemail': AccessScope.CALLS_COMMAND,
  'Mutation.startRecording': AccessScope.CALLS_COMMAND,
  'Mutation.stopRecording': AccessScope.CALLS_COMMAND,
  'Mutation.transferCall': AccessScope.CALLS_COMMAND,
  'Mutation.createCallToken': AccessScope.CALLS_COMMAND,
};

/**
 * Fields below the root that reveal more than the root field's scope grants: a call's command
 * history, its recordings and its whole timeline are a read of the call (CALLS_READ), whether
 * they are reached through `call`, `callStatus`, `createCall` or a command's payload. Checked on
 * every field the operation selects, before anything runs.
 */
const NESTED_FIELD_SCOPES: Readonly<Record<string, AccessScope>> = {
  'Call.commands': AccessScope.CALLS_READ,
  'Call.recordings': AccessScope.CALLS_READ,
  'Call.events': AccessScope.CALLS_READ,
  'CallEvent.command': AccessScope.CALLS_READ,
};

/** Introspection needs no scope (it is off in production anyway). */
const FREE = new Set(['__typename', '__schema', '__type']);

/**
 * Root fields per operation, once resolved: keyed by the operation's node (a document has a fixed
 * number of them, and the bounded document cache keeps the documents), never by a name the client
 * chose, so no request can grow it.
 */
const rootFieldsOf = new WeakMap<OperationDefinitionNode, readonly string[]>();

/** `Type.field` of every root field the operation selects, through fragments (validated: no cycles). */
function rootFields(document: DocumentNode, operation: OperationDefinitionNode): readonly string[] {
  let fields = rootFieldsOf.get(operation);
  if (fields) return fields;
  const found = new Set<string>();
  const type = operation.operation === OperationTypeNode.QUERY ? 'Query' : operation.operation === OperationTypeNode.MUTATION ? 'Mutation' : 'Subscription';
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  const seen = new Set<string>();
  const walk = (selectionSet: SelectionSetNode) => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        if (!FREE.has(selection.name.value)) found.add(`${type}.${selection.name.value}`);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) walk(selection.selectionSet);
      else if (!seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        const fragment = fragments.get(selection.name.value);
        if (fragment) walk(fragment.selectionSet);
      }
    }
  };
  walk(operation.selectionSet);
  fields = [...found];
  rootFieldsOf.set(operation, fields);
  return fields;
}

/**
 * `Type.field` of every field the operation selects at any depth (its fragments included), once
 * per operation node: the document is validated, so every field has a type.
 */
const selectedFieldsOf = new WeakMap<OperationDefinitionNode, ReadonlySet<string>>();

function selectedFields(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode): ReadonlySet<string> {
  let fields = selectedFieldsOf.get(operation);
  if (fields) return fields;
  const found = new Set<string>();
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  const reached = new Set<string>();
  const typeInfo = new TypeInfo(schema);
  const visitor = visitWithTypeInfo(typeInfo, {
    Field(node) {
      const parent = typeInfo.getParentType();
      if (parent) found.add(`${parent.name}.${node.name.value}`);
    },
    FragmentSpread(node) {
      reached.add(node.name.value);
    },
  });
  visit(operation, visitor);
  // Fragments reached from the operation (validation refused cycles), each visited once.
  const visited = new Set<string>();
  for (let pending = [...reached]; pending.length; pending = [...reached].filter((name) => !visited.has(name))) {
    for (const name of pending) {
      visited.add(name);
      const fragment = fragments.get(name);
      if (fragment) visit(fragment, visitor);
    }
  }
  fields = found;
  selectedFieldsOf.set(operation, fields);
  return fields;
}

/**
 * null when the principal may run the operation; else FORBIDDEN, before anything runs (a
 * mutation with one allowed and one refused field changes nothing). A secret key may run anything.
 */
export function scopeRefusal(
  schema: GraphQLSchema,
  principal: Principal | undefined,
  document: DocumentNode,
  operation: OperationDefinitionNode,
): GraphQLError | null {
  const token = principal?.token;
  if (!token) return null;
  for (const field of rootFields(document, operation)) {
    const scope = ROOT_FIELD_SCOPES[field];
    if (!scope) return forbidden(`${field.split('.')[1]} needs the application's secret key: access tokens cannot use it`);
    if (!token.scopes.has(scope)) return forbidden(`${field.split('.')[1]} needs an access token with the ${scope} scope`);
  }
  for (const field of selectedFields(schema, document, operation)) {
    const scope = NESTED_FIELD_SCOPES[field];
    if (scope && !token.scopes.has(scope)) return forbidden(`${field} needs an access token with the ${scope} scope`);
  }
  return null;
}
