import type { CallFilter, Viewer } from '../domain/call-store.js';
import { filterClauses } from './call-filter-sql.js';

/** Builds the tenant predicate and the filter's, with positional parameters. */
export class Where {
  readonly clauses: string[];
  readonly values: unknown[];

  /**
   * `c` prefixes the call's columns (e.g. "c." in a join); `statusColumn` is what `status`
   * filters on (an event stream filters by the event's status).
   */
  constructor(
    tenant: Viewer,
    private readonly c = '',
    private readonly statusColumn = 'status',
  ) {
    this.values = [tenant.appId, tenant.mode];
    this.clauses = [`${c}app_id = $1`, `${c}mode = $2`];
    // An access token's filter, ANDed with whatever the caller asks for.
    if (tenant.scope) this.filter(tenant.scope);
  }

  param(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }

  add(clause: string): void {
    this.clauses.push(clause);
  }

  filter(filter: CallFilter): this {
    for (const clause of filterClauses(filter, (value) => this.param(value), this.c, this.statusColumn)) this.add(clause);
    return this;
  }

  toString(): string {
    return this.clauses.join(' AND ');
  }
}
