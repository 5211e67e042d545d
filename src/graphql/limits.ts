import {
  GraphQLError,
  Kind,
  NoSchemaIntrospectionCustomRule,
  specifiedRules,
  type FieldNode,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';

/**
 * Limits on documents, the same on both transports (Apollo's validationRules and parseOptions
 * over HTTP; documents.ts over WebSocket), chosen for this schema:
 * - depth 12: the deepest useful query, calls → nodes → events → nodes → call → recordings …, is 8;
 * - 20 aliases, 5 directives: a dashboard aliases a few counts (`busy: calls(filter…)`), and 5
 *   @include/@skip are plenty (graphql-cop's directive-overloading probe sends 10);
 * - 3,000 tokens: the largest document in the tests and the dashboard is under 600;
 * - 20,000 nodes, counted as GitHub counts them: a list field returns up to `first`/`last` items
 *   (its default page when absent, its maximum when a variable), times the lists above it.
 *   calls(first: 100) { nodes { events(first: 100) … } } is 10,100; one more nested list is not.
 * Limits are never echoed: a refusal says what kind of limit, not its value.
 */
export const LIMITS = { depth: 12, aliases: 20, directives: 5, tokens: 3_000, nodes: 20_000 };

/** Items a list field may return when the document does not say (its default page, or a guess for plain lists). */
const DEFAULT_ITEMS: Record<string, number> = { calls: 20, events: 50, webhookDeliveries: 20, recordings: 10, commands: 20, attempts: 8 };
const MAX_ITEMS = 100;

export const PARSE_OPTIONS = { maxTokens: LIMITS.tokens };

/** Refusals are reported as validation errors (not thrown: Apollo would answer 500), without their limit. */
const armor = {
  exposeLimits: false,
  propagateOnRejection: false,
  onReject: [(context: ValidationContext, error: GraphQLError) => context.reportError(error)] as never[],
  errorMessage: 'Query validation error: the document is too deep, has too many aliases or too many directives.',
};

export function validationRules(production: boolean): ValidationRule[] {
  return [
    maxDepthRule({ ...armor, n: LIMITS.depth, ignoreIntrospection: !production, flattenFragments: true }) as unknown as ValidationRule,
    maxAliasesRule({ ...armor, n: LIMITS.aliases, allowList: [] }) as unknown as ValidationRule,
    maxDirectivesRule({ ...armor, n: LIMITS.directives }) as unknown as ValidationRule,
    nodeLimitRule,
    ...(production ? [NoSchemaIntrospectionCustomRule] : []),
  ];
}

/** graphql-js's rules plus ours: what documents.ts validates WebSocket documents with. */
export function allValidationRules(production: boolean): ValidationRule[] {
  return [...specifiedRules, ...validationRules(production)];
}

/**
 * What a client may read of a refusal: graphql-js suggests names ("Did you mean …?"), which
 * leaks the schema, and its token limit names its value; both are removed on both transports.
 */
export function withoutSuggestions(message: string): string {
  return message.replace(/ ?Did you mean .*\?$/, '').replace(/contains more th[ae][nt] \d+ tokens/, 'contains too many tokens');
}

function nodeLimitRule(context: ValidationContext): { Document: () => void } {
  return {
    Document() {
      const fragments = new Map<string, FragmentDefinitionNode>();
      for (const definition of context.getDocument().definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
      for (const definition of context.getDocument().definitions) {
        if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
        const nodes = count(definition.selectionSet, 1, fragments, new Set());
        if (nodes > LIMITS.nodes) {
          context.reportError(new GraphQLError('Query is too large: it may return too many nodes. Ask for smaller pages (first/last) or fewer nested lists.', { nodes: [definition] }));
          return;
        }
      }
    },
  };
}

function count(selectionSet: SelectionSetNode | undefined, multiplier: number, fragments: Map<string, FragmentDefinitionNode>, visiting: Set<string>): number {
  if (!selectionSet) return 0;
  let total = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      total += field(selection, multiplier, fragments, visiting);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      total += count(selection.selectionSet, multiplier, fragments, visiting);
    } else {
      const name = selection.name.value;
      // A fragment cycle is reported by graphql-js (NoFragmentCycles); it costs nothing more here.
      if (visiting.has(name)) continue;
      visiting.add(name);
      total += count(fragments.get(name)?.selectionSet, multiplier, fragments, visiting);
      visiting.delete(name);
    }
    if (total > LIMITS.nodes) return total;
  }
  return total;
}

function field(node: FieldNode, multiplier: number, fragments: Map<string, FragmentDefinitionNode>, visiting: Set<string>): number {
  const name = node.name.value;
  if (!(name in DEFAULT_ITEMS)) return node.selectionSet ? count(node.selectionSet, multiplier, fragments, visiting) : 0;
  let items = DEFAULT_ITEMS[name]!;
  for (const argument of node.arguments ?? []) {
    if (argument.name.value !== 'first' && argument.name.value !== 'last') continue;
    items = argument.value.kind === Kind.INT ? Math.min(Number(argument.value.value), MAX_ITEMS) : MAX_ITEMS;
  }
  const here = multiplier * Math.max(items, 1);
  return here + count(node.selectionSet, here, fragments, visiting);
}
