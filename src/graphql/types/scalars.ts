import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { DateTimeResolver, JSONObjectResolver } from 'graphql-scalars';
import { isoDateTime } from '../../shared/iso-date.js';

/**
 * ISO 8601 date-times in UTC: graphql-scalars' RFC 3339 DateTime, serialized to its text.
 * graphql-scalars hands results a Date, which JSON.stringify turns into text through Date#toJSON,
 * ≈1.2 µs a date on this machine: 250 µs for the 200 dates of a page of 50 calls. The text is
 * written here by isoDateTime (shared/iso-date.ts): the same text on the wire
 * (test/unit/scalars.test.ts compares the two serializations).
 */
export const DateTimeScalar = new GraphQLScalarType({
  ...DateTimeResolver.toConfig(),
  serialize(value) {
    const serialized = DateTimeResolver.serialize(value);
    // As JSON.stringify would write it: the ISO text, or null for an invalid date.
    return serialized instanceof Date ? isoDateTime(serialized) : serialized;
  },
});

/**
 * How deep JSON input may nest (createCall's metadata, a metadata filter, a token's filter). The
 * gateway walks such values recursively (validation, JSON.stringify, containment): a value nested
 * thousands deep would overflow the stack. It is refused first, by a walk that does not recurse.
 */
const MAX_JSON_DEPTH = 32;
const TOO_DEEP = `a JSON value may be nested at most ${MAX_JSON_DEPTH} deep (objects and arrays); this one is nested deeper than ${MAX_JSON_DEPTH}`;

function tooDeep(value: unknown): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [item, depth] = stack.pop()!;
    if (item === null || typeof item !== 'object') continue;
    if (depth > MAX_JSON_DEPTH) return true;
    for (const child of Array.isArray(item) ? item : Object.values(item)) stack.push([child, depth + 1]);
  }
  return false;
}

function literalTooDeep(ast: ValueNode): boolean {
  const stack: [ValueNode, number][] = [[ast, 1]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (node.kind !== Kind.OBJECT && node.kind !== Kind.LIST) continue;
    if (depth > MAX_JSON_DEPTH) return true;
    if (node.kind === Kind.OBJECT) for (const field of node.fields) stack.push([field.value, depth + 1]);
    else for (const item of node.values) stack.push([item, depth + 1]);
  }
  return false;
}

/** A JSON object: not an array, string or number; nested at most MAX_JSON_DEPTH deep. */
export const JSONObjectScalar = new GraphQLScalarType({
  ...JSONObjectResolver.toConfig(),
  parseValue(value) {
    if (tooDeep(value)) throw new GraphQLError(TOO_DEEP);
    return JSONObjectResolver.parseValue(value);
  },
  parseLiteral(ast, variables) {
    if (literalTooDeep(ast)) throw new GraphQLError(TOO_DEEP, { nodes: ast });
    return JSONObjectResolver.parseLiteral(ast, variables);
  },
});
