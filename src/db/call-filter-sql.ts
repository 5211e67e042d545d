import type { CallFilter, IntRange, TimeRange } from '../domain/call-store.js';
import { FILTER_ENTRIES, narrows, type FilterOperator } from '../domain/call-filter-fields.js';
import { CALL_FIELD_COLUMNS } from './call-columns.js';

type Param = (value: unknown) => string;

/** The SQL form of each filter operator (its in-memory twin: domain/filter-match.ts; test/filter-equivalence.test.ts compares the two). */
const SQL: { readonly [O in FilterOperator]: (column: string, value: never, param: Param) => string[] } = {
  anyOf: (column, values: readonly string[], param) => [`${column} = ANY(${param(values)}::text[])`],
  equals: (column, value: unknown, param) => [`${column} = ${param(value)}`],
  atLeast: (column, instant: Date, param) => [`${column} >= ${param(instant)}::timestamptz`],
  before: (column, instant: Date, param) => [`${column} < ${param(instant)}::timestamptz`],
  contains: (column, contained: object, param) => [`${column} @> ${param(JSON.stringify(contained))}::jsonb`],
  timeRange: (column, range: TimeRange, param) => range_(column, 'timestamptz', range.from, range.to, '<', param),
  intRange: (column, range: IntRange, param) => range_(column, 'int', range.min, range.max, '<=', param),
};

/** A range as SQL: `{}` is "has the field" (IS NOT NULL), else each given bound; NULL is in no range. */
function range_(column: string, type: string, low: unknown, high: unknown, upper: '<' | '<=', param: Param): string[] {
  if (low == null && high == null) return [`${column} IS NOT NULL`];
  const clauses: string[] = [];
  if (low != null) clauses.push(`${column} >= ${param(low)}::${type}`);
  if (high != null) clauses.push(`${column} ${upper} ${param(high)}::${type}`);
  return clauses;
}

/**
 * The clauses of a filter (ANDed), from FILTER_FIELDS (domain/call-filter-fields.ts): `prefix`
 * qualifies the call's columns (e.g. "c." in a join); `statusColumn` is what `status` compares
 * (an event stream compares the event's status).
 */
export function filterClauses(filter: CallFilter, param: Param, prefix = '', statusColumn = 'status'): string[] {
  const clauses: string[] = [];
  for (const [name, spec] of FILTER_ENTRIES) {
    const value = filter[name];
    if (!narrows(spec, value)) continue;
    const column = spec.eventStatus ? statusColumn : `${prefix}${CALL_FIELD_COLUMNS[spec.field]}`;
    clauses.push(...SQL[spec.operator](column, value as never, param));
  }
  return clauses;
}
