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
 *   calls(first: 100) { nodes { events(first: 100) … } } is 10,100; one more nested list is not;
 * - 3,000 fields once fragments are written out in place: a field takes at least one token, so
 *   no document without fragments reaches it; only spreads multiplied at many places do.
 * Limits are never echoed: a refusal says what kind of limit, not its value.
 */
export const LIMITS = { depth: 12, aliases: 20, directives: 5, tokens: 3_000, nodes: 20_000, expandedFields: 3_000 };

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

/**
 * Two sizes, in one pass over the document: the nodes it may return (above), and the fields it
 * selects once its fragments are written out in place (a fragment spread at 2^30 places selects
 * its fields 2^30 times, however small the text). A fragment's sizes are computed once per
 * document and memoised at multiplier 1 (the node count scales linearly with the lists above
 * it), so each spread costs one lookup, never a walk of the fragment; sizes are capped just past
 * their limits, so an explosion stays a small number.
 */
function nodeLimitRule(context: ValidationContext): { Document: () => void } {
  return {
    Document() {
      const counter = new SizeCounter(context.getDocument().definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION));
      for (const definition of context.getDocument().definitions) {
        if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
        const size = counter.count(definition.selectionSet, 1);
        if (size.nodes > LIMITS.nodes || size.fields > LIMITS.expandedFields) {
          context.reportError(
            new GraphQLError(
              'Query is too large: it may return too many nodes or select too many fields. Ask for smaller pages (first/last), fewer nested lists or fewer fragment spreads.',
              { nodes: [definition] },
            ),
          );
          return;
        }
      }
    },
  };
}

interface Size {
  nodes: number;
  fields: number;
}

const cap = (size: Size): Size => ({ nodes: Math.min(size.nodes, LIMITS.nodes + 1), fields: Math.min(size.fields, LIMITS.expandedFields + 1) });
const over = (size: Size): boolean => size.nodes > LIMITS.nodes || size.fields > LIMITS.expandedFields;

class SizeCounter {
  private readonly fragments = new Map<string, FragmentDefinitionNode>();
  /** Size of each fragment at multiplier 1; zero while it is being counted (a cycle, which NoFragmentCycles reports). */
  private readonly sizes = new Map<string, Size>();

  constructor(fragments: FragmentDefinitionNode[]) {
    for (const fragment of fragments) this.fragments.set(fragment.name.value, fragment);
  }

  count(selectionSet: SelectionSetNode | undefined, multiplier: number): Size {
    const total = { nodes: 0, fields: 0 };
    if (!selectionSet) return total;
    for (const selection of selectionSet.selections) {
      let part: Size;
      if (selection.kind === Kind.FIELD) part = this.field(selection, multiplier);
      else if (selection.kind === Kind.INLINE_FRAGMENT) part = this.count(selection.selectionSet, multiplier);
      else {
        const fragment = this.fragmentSize(selection.name.value);
        part = { nodes: multiplier * fragment.nodes, fields: fragment.fields };
      }
      total.nodes += part.nodes;
      total.fields += part.fields;
      if (over(total)) return cap(total);
    }
    return total;
  }

  private fragmentSize(name: string): Size {
    const known = this.sizes.get(name);
    if (known) return known;
    this.sizes.set(name, { nodes: 0, fields: 0 });
    const size = this.count(this.fragments.get(name)?.selectionSet, 1);
    this.sizes.set(name, size);
    return size;
  }

  private field(node: FieldNode, multiplier: number): Size {
    const name = node.name.value;
    if (!Object.hasOwn(DEFAULT_ITEMS, name)) {
      const inner = this.count(node.selectionSet, multiplier);
      return cap({ nodes: inner.nodes, fields: inner.fields + 1 });
    }
    let items = DEFAULT_ITEMS[name]!;
    for (const argument of node.arguments ?? []) {
      if (argument.name.value !== 'first' && argument.name.value !== 'last') continue;
      items = argument.value.kind === Kind.INT ? Math.min(Number(argument.value.value), MAX_ITEMS) : MAX_ITEMS;
    }
    const here = Math.min(multiplier * Math.max(items, 1), LIMITS.nodes + 1);
    const inner = this.count(node.selectionSet, here);
    return cap({ nodes: here + inner.nodes, fields: inner.fields + 1 });
  }
}
