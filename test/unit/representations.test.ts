import { describe, expect, expectTypeOf, it } from 'vitest';
import type { Call } from '../../src/domain/call.js';
import type { CallObject } from '../../src/graphql/types/call.type.js';
import { CALL_FIELD_COLUMNS, INSERT_CALL, INSERT_CALLS, INSERT_PARAMETER_COUNT, callSelectList } from '../../src/db/call-columns.js';

// The call's representations, held together. CALL_FIELD_COLUMNS is checked against the domain's
// `Call` by its `satisfies` (a field without a column fails to compile); the API type is checked
// here by `tsc` (npm run typecheck compiles the tests): resolvers hand domain `Call`s to `CallObject`.
describe('the representations of a call', () => {
  it('every field of the API type Call is a domain Call field of a compatible type', () => {
    expectTypeOf<Call>().toExtend<Pick<CallObject, Exclude<keyof CallObject, never>>>();
  });

  it('the single-row and the grouped INSERT fill the same columns from the same parameters', () => {
    const columnsOf = (statement: string) => /INSERT INTO call \(([^)]*)\)/.exec(statement)![1];
    expect(columnsOf(INSERT_CALL)).toBe(columnsOf(INSERT_CALLS));
    expect(columnsOf(INSERT_CALL)).toContain('options');
    const placeholders = (statement: string) => new Set(statement.match(/\$\d+/g));
    expect(placeholders(INSERT_CALL).size).toBe(INSERT_PARAMETER_COUNT);
    expect(placeholders(INSERT_CALLS).size).toBe(INSERT_PARAMETER_COUNT);
  });

  it('the select list names every domain field once', () => {
    const aliases = callSelectList('c.', 'call.').match(/"call\.[a-zA-Z]+"/g)!;
    expect(aliases.map((alias) => alias.slice(6, -1)).sort()).toEqual(Object.keys(CALL_FIELD_COLUMNS).sort());
  });
});
