import pg from 'pg';

/** pg's own parser of timestamptz text (postgres-date): the reference parseTimestamptz is held to. */
export const referenceTimestamptz = pg.types.getTypeParser(1184, 'text') as (text: string) => unknown;

/** A parse result, comparable: the time of a Date (NaN for an invalid one), or the value itself. */
export const parsedOutcome = (value: unknown) => (value instanceof Date ? { time: value.getTime() } : { value });
