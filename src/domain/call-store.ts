import type { Call, CallDirection, CallEvent, CallStatus, Channel, Metadata, Tenant } from './call.js';

/** What `calls(filter:)` may narrow by; every field is optional and they combine with AND. */
export interface CallFilter {
  status?: CallStatus[] | null;
  direction?: CallDirection | null;
  fromChannel?: Channel[] | null;
  toChannel?: Channel[] | null;
  fromAddress?: string | null;
  toAddress?: string | null;
  /** inclusive */
  createdAfter?: Date | null;
  /** exclusive */
  createdBefore?: Date | null;
  /** calls whose metadata contains all these key/values (jsonb @>) */
  metadata?: Metadata | null;
}

/** A position in the (createdAt, id) order: what a keyset cursor carries. */
export interface CallKey {
  createdAt: Date;
  id: string;
}

export type SortDirection = 'ASC' | 'DESC';

export interface CallPageQuery {
  filter: CallFilter;
  direction: SortDirection;
  /** Rows to return; the store fetches one more to know whether there are more. */
  limit: number;
  /** true: take from the end of the range (`last`), false: from its start (`first`). */
  fromEnd: boolean;
  after: CallKey | null;
  before: CallKey | null;
}

export interface CallPage {
  /** In the requested order. */
  calls: Call[];
  /** Whether rows exist beyond `limit` on the side the page was taken from. */
  hasMore: boolean;
}

export interface NewCall {
  id: string;
  eventId: string;
  direction: CallDirection;
  status: CallStatus;
  fromAddress: string;
  toAddress: string;
  fromChannel: Channel;
  toChannel: Channel;
  metadata: Metadata;
  livekitRoomName: string | null;
  idempotencyKey: string | null;
  requestFingerprint: string | null;
}

export type InsertCallResult =
  | { kind: 'created'; call: Call }
  | { kind: 'number_not_assigned' }
  | { kind: 'idempotency_key_taken'; call: Call; fingerprint: string | null };

/**
 * Persistence of calls. Every method takes the tenant and every statement filters by it: the one
 * place where isolation between applications and modes is enforced.
 */
export interface CallStore {
  /**
   * Inserts the call and its first event atomically. With `requireAssignedNumber`, the insert
   * happens only if `fromAddress` is a number of the tenant's application. With an idempotency
   * key already used in this tenant (and still fresh), nothing is inserted.
   */
  insert(tenant: Tenant, call: NewCall, options: { requireAssignedNumber: boolean; idempotencyWindowMs: number }): Promise<InsertCallResult>;
  findById(tenant: Tenant, id: string): Promise<Call | null>;
  findByIds(tenant: Tenant, ids: readonly string[]): Promise<Call[]>;
  page(tenant: Tenant, query: CallPageQuery): Promise<CallPage>;
  count(tenant: Tenant, filter: CallFilter): Promise<number>;
  /** Events of many calls in one statement, oldest first, at most `first` + 1 per call. */
  eventsOfCalls(tenant: Tenant, callIds: readonly string[], page: { first: number; afterSequence: number }): Promise<Map<string, CallEvent[]>>;
}
