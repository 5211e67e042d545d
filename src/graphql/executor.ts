import {
  GraphQLError,
  astFromValue,
  execute,
  getOperationAST,
  isInputObjectType,
  isListType,
  isNonNullType,
  typeFromAST,
  valueFromASTUntyped,
  visit,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';

/**
 * How operations are executed: `jit` compiles each document once with graphql-jit (kept with its
 * document, which the bounded document cache shares per text) and runs the compiled function; `graphql-js` interprets it with
 * graphql-js's `execute`. graphql-js is also the fallback for any document graphql-jit refuses.
 * GRAPHQL_EXECUTOR chooses; the test suite runs on both (CI), so the compiled path is proven to
 * give the same results and error shapes. Fast path and reference: graphql-jit beside graphql-js,
 * held together by test/executors.test.ts and by CI's third run (GRAPHQL_EXECUTOR=graphql-js).
 *
 * What graphql-jit does differently, and what is done about it here:
 * - it does not apply input-field defaults to variables (graphql-jit issue #142): they are filled
 *   in before the call (`withDefaults`);
 * - its errors leave `extensions` undefined and miss `nodes`: they are rebuilt as GraphQLErrors
 *   with the same message, path, locations and originalError (Apollo reads extensions.code);
 * - it puts `data` before `errors`: the result is rebuilt in graphql-js's order;
 * - it refuses variables it cannot coerce with no `data`: graphql-js then coerces them again and
 *   gives its own messages (no resolver has run);
 * - it does not call function-valued properties of returned objects (graphql-js does): computed
 *   fields must be field resolvers or getters, never methods;
 * - it calls `resolveType` synchronously: the Node interface resolves synchronously (schema.ts).
 */
import type { ExecutorKind } from '../config.js';
/** Same contract as graphql-js's execute (queries, mutations, and a subscription's per-event mapping). */
export type Executor = ((args: ExecutionArgs) => Promise<ExecutionResult> | ExecutionResult) & {
  /** Operations run compiled, and those run by graphql-js (refused by graphql-jit, or interpreting by choice). */
  readonly stats?: { compiled: number; interpreted: number };
};

/** null: this document runs on graphql-js (compileQuery refused it). */
interface Entry {
  compiled: CompiledQuery | null;
  /** Variables whose input types have field defaults graphql-jit does not apply (non-null fields with a default). */
  defaulted: [name: string, type: GraphQLInputType][];
}

export function createExecutor(schema: GraphQLSchema, kind: ExecutorKind): Executor {
  const stats = { compiled: 0, interpreted: 0 };
  const interpret = (args: ExecutionArgs) => {
    stats.interpreted++;
    return execute(args);
  };
  if (kind === 'graphql-js') return Object.assign((args: ExecutionArgs) => interpret(args), { stats });
  // Compiled plans hang off their document object: documents are shared per text by the bounded
  // document cache (server/documents.ts), so a plan lives exactly as long as its document.
  const plans = new WeakMap<DocumentNode, Map<string, Entry>>();
  const finish = (result: ExecutionResult, args: ExecutionArgs): Promise<ExecutionResult> | ExecutionResult => {
    // No `data`: graphql-jit refused the variables, before any resolver ran. graphql-js coerces
    // them again, with its own messages and `nodes` (Apollo turns those into BAD_USER_INPUT).
    if (!('data' in result)) return interpret(args);
    stats.compiled++;
    // graphql-js puts `errors` before `data`: the same key order keeps response bodies byte-identical.
    return result.errors ? { errors: result.errors.map(toGraphQLError), data: result.data } : result;
  };

  const run = (args: ExecutionArgs): Promise<ExecutionResult> | ExecutionResult => {
    // Anything graphql-jit cannot honour goes to graphql-js as it is.
    if (args.schema !== schema || args.fieldResolver || args.typeResolver || args.subscribeFieldResolver) return interpret(args);
    let perDocument = plans.get(args.document);
    if (!perDocument) plans.set(args.document, (perDocument = new Map()));
    const name = args.operationName ?? '';
    let entry = perDocument.get(name);
    if (!entry) {
      // graphql-jit writes literal arguments into its generated code as JS object literals, where a
      // key "__proto__" sets the prototype instead of being a key (an inline metadata filter
      // {__proto__: …} would match every call): such documents run interpreted, where it is a key.
      const compiled = hasProtoKey(args.document) ? null : compileQuery(schema, args.document, args.operationName ?? undefined);
      entry = compiled && isCompiledQuery(compiled) ? { compiled, defaulted: defaultedVariables(schema, args) } : { compiled: null, defaulted: [] };
      perDocument.set(name, entry);
    }
    if (!entry.compiled) return interpret(args);
    const variables = entry.defaulted.length ? withDefaults(args.variableValues ?? {}, entry.defaulted) : args.variableValues;
    const result = entry.compiled.query(args.rootValue, args.contextValue, variables);
    return isPromiseLike(result) ? result.then((r) => finish(r, args)) : finish(result, args);
  };
  return Object.assign(run, { stats });
}

/**
 * graphql-jit's errors inherit GraphQLError.prototype but leave `extensions` undefined unless the
 * thrown error had some, and Apollo reads `error.extensions.code` (its formatter would throw).
 */
/** Whether a literal object of the document has a field named `__proto__` (see run). */
function hasProtoKey(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    ObjectField(node) {
      if (node.name.value === '__proto__') found = true;
    },
  });
  return found;
}

function toGraphQLError(error: GraphQLError): GraphQLError {
  const normalized = new GraphQLError(error.message, {
    path: error.path,
    originalError: error.originalError ?? undefined,
    extensions: error.extensions ?? undefined,
  });
  (normalized as { locations: GraphQLError['locations'] }).locations = error.locations;
  return normalized;
}

function isPromiseLike<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** Variables of the operation whose type reaches an input field with a default value. */
function defaultedVariables(schema: GraphQLSchema, args: ExecutionArgs): [string, GraphQLInputType][] {
  const operation = getOperationAST(args.document, args.operationName);
  const out: [string, GraphQLInputType][] = [];
  for (const definition of operation?.variableDefinitions ?? []) {
    const type = typeFromAST(schema, definition.type) as GraphQLInputType | undefined;
    if (type && hasFieldDefaults(type, new Set())) out.push([definition.variable.name.value, type]);
  }
  return out;
}

function hasFieldDefaults(type: GraphQLInputType, seen: Set<GraphQLInputType>): boolean {
  if (isNonNullType(type) || isListType(type)) return hasFieldDefaults(type.ofType, seen);
  if (!isInputObjectType(type) || seen.has(type)) return false;
  seen.add(type);
  return Object.values(type.getFields()).some((field) => field.defaultValue !== undefined || hasFieldDefaults(field.type, seen));
}

function withDefaults(variables: Record<string, unknown>, defaulted: [string, GraphQLInputType][]): Record<string, unknown> {
  const out = { ...variables };
  for (const [name, type] of defaulted) out[name] = fill(type, out[name]);
  return out;
}

/** Per input type: its fields, each with its default in external (variable) form, computed once. */
const inputFields = new WeakMap<GraphQLInputType, { name: string; type: GraphQLInputType; hasDefault: boolean; external: unknown }[]>();

function fieldsOf(type: GraphQLInputType & { getFields(): Record<string, { name: string; type: GraphQLInputType; defaultValue?: unknown }> }) {
  let fields = inputFields.get(type);
  if (!fields) {
    fields = Object.values(type.getFields()).map((field) => {
      const ast = field.defaultValue !== undefined ? astFromValue(field.defaultValue, field.type) : null;
      return { name: field.name, type: field.type, hasDefault: field.defaultValue !== undefined, external: ast ? valueFromASTUntyped(ast) : undefined };
    });
    inputFields.set(type, fields);
  }
  return fields;
}

/** The input value with every missing field that has a default set to it, in its external (variable) form. */
function fill(type: GraphQLInputType, value: unknown): unknown {
  if (value == null) return value;
  if (isNonNullType(type)) return fill(type.ofType, value);
  if (isListType(type)) return Array.isArray(value) ? value.map((item) => fill(type.ofType, item)) : fill(type.ofType, value);
  if (!isInputObjectType(type) || typeof value !== 'object') return value;
  const input = value as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const field of fieldsOf(type)) {
    const current = input[field.name];
    const next = current === undefined && field.hasDefault ? field.external : fill(field.type, current);
    if (next !== current) (out ??= { ...input })[field.name] = next;
  }
  return out ?? value;
}
