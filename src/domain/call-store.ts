import type { AnsweredBy, Call, CallDirection, CallEvent, CallOptions, CallStatus, Channel, EndReason, HangupSource, Metadata, Mode, Tenant } from './call.js';

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
  /** calls whose startedAt (first ring) is in the range; calls that never rang do not match */
  startedAt?: TimeRange | null;
  answeredAt?: TimeRange | null;
  endedAt?: TimeRange | null;
  /** calls that ended for any of these reasons */
  endReason?: EndReason[] | null;
  /** calls machine detection found answered by any of these */
  answeredBy?: AnsweredBy[] | null;
  /** calls whose duration (seconds, set when they end) is in the range */
  duration?: IntRange | null;
}

/** from inclusive, to exclusive; either may be open. */
export interface TimeRange {
  from?: Date | null;
  to?: Date | null;
}

/** min and max inclusive; either may be open. */
export interface IntRange {
  min?: number | null;
  max?: number | null;
}

/**
 * What calls can be listed by. CREATED_AT lists every call; the others list the calls that have
 * the field (STARTED_AT: calls that rang; ENDED_AT and DURATION: calls that ended).
 */
export enum CallOrderField {
  CREATED_AT = 'created_at',
  STARTED_AT = 'started_at',
  ENDED_AT = 'ended_at',
  DURATION = 'duration',
}

/** A position in a listing's order (field value, then id): what a keyset cursor carries. */
export interface CallKey {
  field: CallOrderField;
  value: Date | number;
  id: string;
}

/** What callStats groups by; MINUTE, HOUR and DAY are periods of createdAt (UTC), one at a time. */
export enum CallStatsGroup {
  STATUS = 'status',
  /** The remote party's channel: toChannel of an outbound call, fromChannel of an inbound one. */
  CHANNEL = 'channel',
  DIRECTION = 'direction',
  END_REASON = 'end_reason',
  MINUTE = 'minute',
  HOUR = 'hour',
  DAY = 'day',
}

export interface CallStatsQuery {
  filter: CallFilter;
  groupBy: CallStatsGroup[];
  /** createdAt from (inclusive) … to (exclusive). */
  from: Date;
  to: Date;
}

export interface CallStatsKey {
  status: CallStatus | null;
  channel: Channel | null;
  direction: CallDirection | null;
  endReason: EndReason | null;
  /** The period's start, when grouped by MINUTE, HOUR or DAY. */
  period: Date | null;
}

export interface CallStatsRow {
  key: CallStatsKey;
  count: number;
  /** Calls answered (by a person or a machine): answeredAt set. */
  answered: number;
  /** answered / count; null for no calls. */
  answerRate: number | null;
  /** Over answered calls that ended: seconds. null when there are none. */
  averageDuration: number | null;
  p95Duration: number | null;
}

export interface CallStats {
  total: CallStatsRow;
  groups: CallStatsRow[];
  /**
   * Where these figures stand in the event log, read by the same statement (one snapshot):
   * `position`, the tenant's newest numbered event (0: none), and `countedAfter`, the events the
   * figures count that were committed but not yet numbered (they will be numbered after
   * `position`). Every event numbered after `position` and not in `countedAfter` is one the
   * figures do not count. null: too many were still unnumbered to list.
   */
  asOf: { position: string; countedAfter: string[] } | null;
}

export type SortDirection = 'ASC' | 'DESC';

export interface CallPageQuery {
  filter: CallFilter;
  orderBy: CallOrderField;
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
  /** Filled by the store from the active span (Call.traceParent); the domain leaves it out. */
  traceParent?: string | null;
  eventId: string;
  direction: CallDirection;
  status: CallStatus;
  fromAddress: string;
  toAddress: string;
  fromChannel: Channel;
  toChannel: Channel;
  metadata: Metadata;
  options: CallOptions;
  livekitRoomName: string | null;
  roomName: string | null;
  idempotencyKey: string | null;
  requestFingerprint: string | null;
  /** The provider that will carry it. */
  provider: string;
}

/** An event with its call in the state the event left it (or later): what subscribers get. */
export interface CallEventWithCall extends CallEvent {
  call: Call;
}

/** How one status update changes a call; computed by the lifecycle, applied atomically by the store. */
export interface TransitionPlan {
  callId: string;
  eventId: string;
  status: CallStatus;
  occurredAt: Date;
  /** The update applies only while the call is in one of these (conditional in SQL). */
  appliesFrom: readonly CallStatus[];
  /** Sets startedAt if unset. */
  rang: boolean;
  /** Sets answeredAt if unset. */
  answered: boolean;
  /** Sets endedAt, duration and endReason. */
  terminal: boolean;
  /** endReason given by the provider; else the default for the status replaced (COMPLETED after VOICEMAIL: "voicemail"). */
  endReason: EndReason | null;
  /** The default endReason when the call was in appliesFrom[i]. */
  defaultEndReasons: readonly (EndReason | null)[];
  /** Who ended the call (terminal only). */
  hangupSource: HangupSource | null;
  /** The provider's SIP code for the end (terminal only). */
  sipCode: number | null;
  /** The command that caused it: marked APPLIED in the same statement. */
  commandId: string | null;
}

export type InsertCallResult =
  { kind: 'created'; call: Call } | { kind: 'number_not_assigned' } | { kind: 'idempotency_key_taken'; call: Call; fingerprint: string | null };

/**
 * Persistence of calls. Every method takes the tenant and every statement filters by it: the one
 * place where isolation between applications and modes is enforced.
 */
/** An outbound call to `toAddress` in `status` waits for a command: nothing is due for it. */
export interface ParkedState {
  toAddress: string;
  status: CallStatus;
}

/**
 * A tenant as one caller sees it: with an access token, `scope` (the token's filter) narrows
 * every read as if ANDed into the caller's own filter; a call outside it is not found, as
 * another tenant's. The principal of a request is passed as its tenant (domain/authenticator.ts).
 */
export interface Viewer extends Tenant {
  readonly scope?: CallFilter | null;
  /** Set for an access token: its heavy reads are counted against its own share, not the key's. */
  readonly token?: { readonly id: string };
}

export interface CallStore {
  /**
   * Inserts the call and its first event atomically. With `requireAssignedNumber`, the insert
   * happens only if `fromAddress` is a number of the tenant's application. With an idempotency
   * key already used in this tenant (and still fresh), nothing is inserted.
   */
  insert(tenant: Tenant, call: NewCall, options: { requireAssignedNumber: boolean; idempotencyWindowMs: number }): Promise<InsertCallResult>;
  findById(tenant: Viewer, id: string): Promise<Call | null>;
  /** The application a phone number is assigned to (inbound calls), or null. */
  applicationOfNumber(number: string): Promise<string | null>;
  findByIds(tenant: Viewer, ids: readonly string[]): Promise<Call[]>;
  page(tenant: Viewer, query: CallPageQuery): Promise<CallPage>;
  count(tenant: Viewer, filter: CallFilter): Promise<number>;
  /** callStats in one statement: the groups (at most `maxGroups` + 1 read) and the total. */
  stats(tenant: Viewer, query: CallStatsQuery, maxGroups: number): Promise<CallStats & { truncated: boolean }>;
  /**
   * Applies a transition if the call is in one of `plan.appliesFrom`, appending its event, in one
   * statement; null when it does not apply (duplicate, late, backwards, unknown call).
   */
  applyTransition(plan: TransitionPlan): Promise<{ call: Call; event: CallEvent } | null>;
  /** The newest event of a call, with the call. */
  latestEvent(tenant: Viewer, callId: string): Promise<CallEventWithCall | null>;
  /** A call's events after a sequence, oldest first. */
  callEventsAfter(tenant: Viewer, callId: string, afterSequence: number, limit: number): Promise<CallEventWithCall[]>;
  /** Sequenced events of a tenant after a log position, in log order, narrowed like `calls`. */
  tenantEventsAfter(tenant: Viewer, position: string, filter: CallFilter, limit: number): Promise<CallEventWithCall[]>;
  /** The log position of one event, once sequenced. */
  positionOf(tenant: Viewer, callId: string, sequence: number): Promise<string | null>;
  /**
   * Calls of `mode` that have not ended, with the time of their last transition (simulator
   * resume): outbound calls `parked` in a state they leave only on a command are left out, and
   * each application contributes at most `perApplication`, oldest first.
   */
  unfinishedCalls(mode: Mode, limit: number, options: { parked: readonly ParkedState[]; perApplication: number }): Promise<{ call: Call; lastEventAt: Date }[]>;
  /** Events of many calls in one statement, oldest first, at most `first` + 1 per call. */
  eventsOfCalls(tenant: Viewer, callIds: readonly string[], page: { first: number; afterSequence: number }): Promise<Map<string, CallEvent[]>>;
}
