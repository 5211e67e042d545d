import { DateTimeResolver, JSONObjectResolver } from 'graphql-scalars';

/** ISO 8601 date-times in UTC (graphql-scalars' RFC 3339 DateTime). */
export const DateTimeScalar = DateTimeResolver;
/** A JSON object: not an array, string or number. */
export const JSONObjectScalar = JSONObjectResolver;
