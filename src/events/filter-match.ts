import type { CallEventWithCall, CallFilter } from '../domain/call-store.js';

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
  return true;
}

/** PostgreSQL's jsonb `@>`: objects contain every key recursively, arrays contain every element somewhere. */
export function jsonContains(container: unknown, contained: unknown): boolean {
  if (Array.isArray(contained)) {
    if (!Array.isArray(container)) return false;
    return contained.every((item) => container.some((candidate) => jsonContains(candidate, item)));
  }
  if (contained !== null && typeof contained === 'object') {
    if (container === null || typeof container !== 'object' || Array.isArray(container)) return false;
    return Object.entries(contained).every(
      ([key, value]) => key in (container as object) && jsonContains((container as Record<string, unknown>)[key], value),
    );
  }
  return container === contained;
}
