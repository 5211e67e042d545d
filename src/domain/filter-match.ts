import type { Call, Metadata } from './call.js';
import { FILTER_ENTRIES, narrows, type FilterOperator } from './call-filter-fields.js';
import type { CallEventWithCall, CallFilter, IntRange, TimeRange } from './call-store.js';

/** The in-memory form of each filter operator (its SQL twin: db/call-filter-sql.ts; test/filter-equivalence.test.ts compares the two). */
const MATCH: { readonly [O in FilterOperator]: (have: unknown, value: never) => boolean } = {
  anyOf: (have, values: readonly unknown[]) => have !== null && values.includes(have),
  equals: (have, value: unknown) => have === value,
  atLeast: (have, instant: Date) => have !== null && new Date(have as Date).getTime() >= instant.getTime(),
  before: (have, instant: Date) => have !== null && new Date(have as Date).getTime() < instant.getTime(),
  contains: (have, contained: Metadata) => jsonContains(have, contained),
  timeRange: (have, range: TimeRange) => inTimeRange(have as Date | null, range),
  intRange: (have, range: IntRange) => inIntRange(have as number | null, range),
};

/**
 * `CallFilter` evaluated in memory on a live event, with the same meaning as the SQL of `calls`
 * (both derived from FILTER_FIELDS, domain/call-filter-fields.ts): `status` is the event's status;
 * the other fields are the call's; `metadata` is jsonb containment (@>).
 */
export function matchesFilter(event: CallEventWithCall, filter: CallFilter): boolean {
  for (const [name, spec] of FILTER_ENTRIES) {
    const value = filter[name];
    if (!narrows(spec, value)) continue;
    const have = spec.eventStatus ? event.status : event.call[spec.field];
    if (!MATCH[spec.operator](have, value as never)) return false;
  }
  return true;
}

/** A call (not an event) against a filter, as `calls` would: `status` is the call's. */
export function callMatches(call: Call, filter: CallFilter): boolean {
  return matchesFilter({ status: call.status, call } as CallEventWithCall, filter);
}

/** As SQL's `column >= from AND column < to`: a NULL column is in no range, an open one ({}) included. */
function inTimeRange(value: Date | null, range: TimeRange): boolean {
  if (value === null) return false;
  const time = new Date(value).getTime();
  return (range.from == null || time >= range.from.getTime()) && (range.to == null || time < range.to.getTime());
}

function inIntRange(value: number | null, range: IntRange): boolean {
  if (value === null) return false;
  return (range.min == null || value >= range.min) && (range.max == null || value <= range.max);
}

/**
 * PostgreSQL's jsonb `@>` (JsonbDeepContains; test/filter-match.test.ts compares the two on random documents): an object contains another when it has each of
 * its keys with a value of the same type that contains the other's value; an array contains
 * another when each of its elements is equal to (scalars) or contained by (objects, arrays) some
 * element of the container. Scalars are equal by value (numbers numerically). Keys are own
 * properties only ("constructor" is not a key of {}).
 *
 * The cost is bounded by the filter (call-service.ts FILTER_METADATA_LIMITS): scalar elements
 * are looked up in a set of the container's scalars, so only the few object/array elements a
 * filter may hold are compared with each container element.
 */
export function jsonContains(container: unknown, contained: unknown): boolean {
  if (Array.isArray(contained)) {
    if (!Array.isArray(container)) return false;
    let scalars: Set<unknown> | null = null;
    for (const item of contained) {
      if (item !== null && typeof item === 'object') {
        const wantArray = Array.isArray(item);
        if (
          !container.some(
            (candidate) => candidate !== null && typeof candidate === 'object' && Array.isArray(candidate) === wantArray && jsonContains(candidate, item),
          )
        )
          return false;
      } else {
        scalars ??= new Set(container.filter((candidate) => candidate === null || typeof candidate !== 'object'));
        if (!scalars.has(item)) return false;
      }
    }
    return true;
  }
  if (contained !== null && typeof contained === 'object') {
    if (container === null || typeof container !== 'object' || Array.isArray(container)) return false;
    for (const key of Object.keys(contained)) {
      if (!Object.hasOwn(container, key)) return false;
      const want = (contained as Record<string, unknown>)[key];
      const have = (container as Record<string, unknown>)[key];
      if (kind(want) !== kind(have) || !jsonContains(have, want)) return false;
    }
    return true;
  }
  return container === contained;
}

function kind(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}
