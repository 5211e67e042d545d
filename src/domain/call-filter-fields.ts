import type { Call } from './call.js';
import type { CallFilter } from './call-store.js';

/**
 * How a filter field compares, named once per kind of comparison. Each operator has exactly two
 * implementations, in memory (domain/filter-match.ts, the live path) and in SQL
 * (db/call-filter-sql.ts, listings, stats and replay), each typed as a record over every operator:
 * an operator without both fails to compile.
 */
export type FilterOperator =
  /** The field is one of the values (a NULL field is in no list); no effect when the list is empty. */
  | 'anyOf'
  /** The field equals the value. */
  | 'equals'
  /** The field is at or after the instant. */
  | 'atLeast'
  /** The field is before the instant. */
  | 'before'
  /** jsonb containment (@>); no effect when the object has no keys. */
  | 'contains'
  /** from inclusive, to exclusive, either open; a NULL field is in no range, `{}` means "has the field". */
  | 'timeRange'
  /** min and max inclusive, either open; a NULL field is in no range, `{}` means "has the field". */
  | 'intRange';

interface FilterFieldSpec {
  operator: FilterOperator;
  /** The call field compared. */
  field: keyof Call;
  /** Compared with the event's own status on a stream of events (the call's in a listing). */
  eventStatus?: true;
}

/**
 * The one definition of `CallFilter`: which call field each filter field compares, and how. A
 * filter field without an entry here fails to compile; the SQL and the in-memory match are both
 * derived from it, and test/filter-equivalence.test.ts checks them against each other on random
 * calls and filters of every field.
 */
export const FILTER_FIELDS = {
  status: { operator: 'anyOf', field: 'status', eventStatus: true },
  direction: { operator: 'equals', field: 'direction' },
  fromChannel: { operator: 'anyOf', field: 'fromChannel' },
  toChannel: { operator: 'anyOf', field: 'toChannel' },
  fromAddress: { operator: 'equals', field: 'fromAddress' },
  toAddress: { operator: 'equals', field: 'toAddress' },
  createdAfter: { operator: 'atLeast', field: 'createdAt' },
  createdBefore: { operator: 'before', field: 'createdAt' },
  metadata: { operator: 'contains', field: 'metadata' },
  startedAt: { operator: 'timeRange', field: 'startedAt' },
  answeredAt: { operator: 'timeRange', field: 'answeredAt' },
  endedAt: { operator: 'timeRange', field: 'endedAt' },
  endReason: { operator: 'anyOf', field: 'endReason' },
  answeredBy: { operator: 'anyOf', field: 'answeredBy' },
  duration: { operator: 'intRange', field: 'duration' },
} as const satisfies { readonly [K in keyof CallFilter]-?: FilterFieldSpec };

/** The filter fields in their order, with their specs. */
export const FILTER_ENTRIES = Object.entries(FILTER_FIELDS) as readonly (readonly [keyof CallFilter, FilterFieldSpec])[];

/** Whether a value set for a field narrows anything: an empty list or `metadata: {}` does not (neither in SQL nor in memory). */
export function narrows(spec: FilterFieldSpec, value: unknown): boolean {
  if (value == null) return false;
  if (spec.operator === 'anyOf') return (value as unknown[]).length > 0;
  if (spec.operator === 'contains') return Object.keys(value as object).length > 0;
  return true;
}
