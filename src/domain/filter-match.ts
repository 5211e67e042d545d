import type { Call } from './call.js';
import type { CallEventWithCall, CallFilter, IntRange, TimeRange } from './call-store.js';

/**
 * `CallFilter` evaluated in memory on a live event, with the same meaning as the SQL of
 * `calls` (see Where in db/pg-call-store.ts): `status` is the event's status; the other fields
 * are the call's; `metadata` is jsonb containment (@>).
 */
export function matchesFilter(event: CallEventWithCall, filter: CallFilter): boolean {
  const call = event.call;
  if (filter.status?.length && !filter.status.includes(event.status)) return false;
  if (filter.direction && call.direction !== filter.direction) return false;
  if (filter.fromChannel?.length && !filter.fromChannel.includes(call.fromChannel)) return false;
  if (filter.toChannel?.length && !filter.toChannel.includes(call.toChannel)) return false;
  if (filter.fromAddress != null && call.fromAddress !== filter.fromAddress) return false;
  if (filter.toAddress != null && call.toAddress !== filter.toAddress) return false;
  if (filter.createdAfter && call.createdAt < filter.createdAfter) return false;
  if (filter.createdBefore && call.createdAt >= filter.createdBefore) return false;
  if (filter.metadata && !jsonContains(call.metadata, filter.metadata)) return false;
  if (filter.startedAt && !inTimeRange(call.startedAt, filter.startedAt)) return false;
  if (filter.answeredAt && !inTimeRange(call.answeredAt, filter.answeredAt)) return false;
  if (filter.endedAt && !inTimeRange(call.endedAt, filter.endedAt)) return false;
  if (filter.endReason?.length && (call.endReason === null || !filter.endReason.includes(call.endReason))) return false;
  if (filter.duration && !inIntRange(call.duration, filter.duration)) return false;
  if (filter.answeredBy?.length && (call.answeredBy === null || !filter.answeredBy.includes(call.answeredBy))) return false;
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
 * PostgreSQL's jsonb `@>` (JsonbDeepContains): an object contains another when it has each of
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
