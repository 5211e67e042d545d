/**
 * The domain's constants (enum values, status lists) written into SQL text, so that no statement
 * retypes them. The hot statements are prepared once per connection and keep one text; a value
 * that is a rule of the domain (which statuses are terminal, which commands are pending) comes
 * from src/domain through these at module load. Values that vary per request are bind parameters.
 */
const SAFE = /^[a-z][a-z0-9_.]*$/;

/** `'value'`: only the domain's lower-case names are accepted, so nothing needs escaping. */
export function lit(value: string): string {
  if (!SAFE.test(value)) throw new Error(`not a domain name: ${JSON.stringify(value)}`);
  return `'${value}'`;
}

/** `('a', 'b')`, for `IN`. */
export function inList(values: Iterable<string>): string {
  return `(${[...values].map(lit).join(', ')})`;
}
