import type { Call, Tenant } from '../domain/call.js';
import type { CallEventWithCall, NewCall } from '../domain/call-store.js';

/**
 * The one table of the `call` columns the gateway reads and writes with its own SQL (the entity,
 * db/entities/call.entity.ts, declares them for the migrations). Every other form is derived from
 * here: the select list (`CALL_COLUMNS`), the joined "call.<field>" list, the single-row and the
 * grouped INSERT with their parameters, and the values array. Placeholders are numbered by code,
 * never by hand (as PostGraphile's pg-sql2 does): a column added here reaches every statement, and
 * a domain `Call` field without a column fails to compile. The single-row and the grouped INSERT
 * share one template (insertStatement); test/unit/representations.test.ts and the concurrent
 * createCall test in test/telnyx.test.ts hold them together.
 */
export const CALL_FIELD_COLUMNS = {
  id: 'id',
  appId: 'app_id',
  mode: 'mode',
  direction: 'direction',
  status: 'status',
  fromAddress: 'from_address',
  toAddress: 'to_address',
  fromChannel: 'from_channel',
  toChannel: 'to_channel',
  duration: 'duration',
  endReason: 'end_reason',
  hangupSource: 'hangup_source',
  sipCode: 'sip_code',
  metadata: 'metadata',
  options: 'options',
  answeredBy: 'answered_by',
  livekitRoomName: 'livekit_room_name',
  roomName: 'room_name',
  startedAt: 'started_at',
  answeredAt: 'answered_at',
  endedAt: 'ended_at',
  createdAt: 'created_at',
  provider: 'provider',
  providerCallId: 'provider_call_id',
  onHold: 'on_hold',
  mutedLegs: 'muted_legs',
  recordingId: 'recording_id',
  transferredTo: 'transferred_to',
  transferredToChannel: 'transferred_to_channel',
  version: 'last_sequence',
  traceParent: 'trace_parent',
} as const satisfies { readonly [K in keyof Call]-?: string };

const CALL_FIELDS = Object.keys(CALL_FIELD_COLUMNS) as (keyof Call)[];

/** `<prefix><column> AS "<alias prefix><field>"` for every field of `Call`: rows need no mapping loop. */
export function callSelectList(tablePrefix = '', aliasPrefix = ''): string {
  return CALL_FIELDS.map((field) => {
    const column = CALL_FIELD_COLUMNS[field];
    const alias = `${aliasPrefix}${field}`;
    return column === alias && !tablePrefix ? column : `${tablePrefix}${column} AS "${alias}"`;
  }).join(', ');
}

/** Columns as the domain's `Call` names them: rows need no mapping loop . */
export const CALL_COLUMNS = callSelectList();

export const EVENT_COLUMNS = `id, call_id AS "callId", sequence, status, previous_status AS "previousStatus",
  occurred_at AS "occurredAt", type AS kind, command_id AS "commandId", digits, position::text AS position`;

/** An event joined with its call: event columns, then the call's as "call.<field>". */
export const EVENT_WITH_CALL_COLUMNS = `e.id, e.call_id AS "callId", e.sequence, e.status, e.previous_status AS "previousStatus",
  e.occurred_at AS "occurredAt", e.type AS kind, e.command_id AS "commandId", e.digits, e.position::text AS position,
  ${callSelectList('c.', 'call.')}`;

/** Folds the "call.<field>" columns of a joined row into `call`. */
export function toEventWithCall(row: Record<string, unknown>): CallEventWithCall {
  const event: Record<string, unknown> = {};
  const call: Record<string, unknown> = {};
  for (const key in row) {
    if (key.startsWith('call.')) call[key.slice(5)] = row[key];
    else event[key] = row[key];
  }
  event.call = call;
  return event as unknown as CallEventWithCall;
}

/** What one createCall inserts, flattened: the new call, its tenant and the number condition. */
type InsertSource = NewCall & Tenant & { requireAssignedNumber: boolean };

interface InsertParameter {
  /** The name in the statement's `input`: the `call` column it fills, or a parameter that is not one. */
  name: string;
  /** Whether `name` is a column of `call` the INSERT fills. */
  column: boolean;
  type: 'text' | 'jsonb' | 'boolean';
}

const col = (name: string, type: InsertParameter['type'] = 'text'): InsertParameter => ({ name, column: true, type });

/**
 * The parameters of a call insert, in their order: one per field of what createCall hands the
 * store, so a field of `NewCall` without a parameter fails to compile.
 */
const INSERT_PARAMETERS = {
  id: col(CALL_FIELD_COLUMNS.id),
  appId: col(CALL_FIELD_COLUMNS.appId),
  mode: col(CALL_FIELD_COLUMNS.mode),
  direction: col(CALL_FIELD_COLUMNS.direction),
  status: col(CALL_FIELD_COLUMNS.status),
  fromAddress: col(CALL_FIELD_COLUMNS.fromAddress),
  toAddress: col(CALL_FIELD_COLUMNS.toAddress),
  fromChannel: col(CALL_FIELD_COLUMNS.fromChannel),
  toChannel: col(CALL_FIELD_COLUMNS.toChannel),
  metadata: col(CALL_FIELD_COLUMNS.metadata, 'jsonb'),
  options: col(CALL_FIELD_COLUMNS.options, 'jsonb'),
  livekitRoomName: col(CALL_FIELD_COLUMNS.livekitRoomName),
  roomName: col(CALL_FIELD_COLUMNS.roomName),
  provider: col(CALL_FIELD_COLUMNS.provider),
  traceParent: col(CALL_FIELD_COLUMNS.traceParent),
  idempotencyKey: col('idempotency_key'),
  requestFingerprint: col('request_fingerprint'),
  /** The INITIATED event's id (call_event), inserted by the same statement. */
  eventId: { name: 'event_id', column: false, type: 'text' },
  /** The row is inserted only if `from_address` is a number of the application. */
  requireAssignedNumber: { name: 'require_number', column: false, type: 'boolean' },
} satisfies { readonly [K in keyof InsertSource]-?: InsertParameter };

const INSERT_KEYS = Object.keys(INSERT_PARAMETERS) as (keyof InsertSource)[];
const PARAMETERS = INSERT_KEYS.map((key) => INSERT_PARAMETERS[key] as InsertParameter);

/** How many parameters a call insert takes, and where the call's id is among them. */
export const INSERT_PARAMETER_COUNT = PARAMETERS.length;
export const INSERT_ID_INDEX = INSERT_KEYS.indexOf('id');

/** The parameters of INSERT_CALL (and one row of INSERT_CALLS) for one call, in their order. */
export function insertCallValues(tenant: Tenant, call: NewCall, requireAssignedNumber: boolean): unknown[] {
  const values = new Array<unknown>(INSERT_PARAMETER_COUNT);
  for (let i = 0; i < INSERT_PARAMETER_COUNT; i++) {
    const key = INSERT_KEYS[i]!;
    const value = key === 'appId' || key === 'mode' ? tenant[key] : key === 'requireAssignedNumber' ? requireAssignedNumber : call[key];
    values[i] = PARAMETERS[i]!.type === 'jsonb' ? JSON.stringify(value) : value;
  }
  return values;
}

/**
 * The statement both forms share, written once: the call is inserted only where the number
 * condition holds; `ON CONFLICT DO NOTHING` on the partial unique index makes idempotency a
 * constraint (concurrent requests with one key create one call, also between two rows of one
 * batch); each inserted call gets its INITIATED event in the same statement (one round trip,
 * atomic). `form` says how a parameter is read: as a typed scalar (one call), or from the
 * `input` relation that unnests one array per parameter (many calls).
 */
function insertStatement(form: { input: string | null; ref(parameter: InsertParameter, i: number): string; eventSource: string }): string {
  const at = (name: string) => PARAMETERS.findIndex((parameter) => parameter.name === name);
  const ref = (name: string) => form.ref(PARAMETERS[at(name)]!, at(name));
  const columns = PARAMETERS.flatMap((parameter, i) => (parameter.column ? [{ parameter, i }] : []));
  return `
WITH ${form.input ? `input AS (${form.input}), ` : ''}inserted AS (
  INSERT INTO call (${columns.map(({ parameter }) => parameter.name).join(', ')}, last_sequence)
  SELECT ${columns.map(({ parameter, i }) => form.ref(parameter, i)).join(', ')}, 1${form.input ? '\n    FROM input i' : ''}
   WHERE NOT ${ref('require_number')} OR EXISTS (SELECT 1 FROM phone_number p WHERE p.app_id = ${ref('app_id')} AND p.number = ${ref('from_address')})
  ON CONFLICT (app_id, mode, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
  RETURNING ${callSelectList()}
), event AS (
  INSERT INTO call_event (id, call_id, app_id, mode, sequence, status, previous_status, occurred_at)
  SELECT ${ref('event_id')}, c.id, c."appId", c.mode, 1, c.status, NULL, c."createdAt" FROM ${form.eventSource}
)
SELECT * FROM inserted`;
}

/** INSERT_CALL is prepared per connection under this name. */
export const INSERT_CALL_STATEMENT = 'insert_call';

/** One call: each parameter a typed scalar. */
export const INSERT_CALL = insertStatement({ input: null, ref: (parameter, i) => `$${i + 1}::${parameter.type}`, eventSource: 'inserted c' });

/**
 * Many calls in ONE statement: each parameter an array, one element per call (JSON travels as text
 * and is cast per row), so the text is one prepared statement whatever the batch size.
 */
export const INSERT_CALLS = insertStatement({
  input: `SELECT * FROM unnest(${PARAMETERS.map((parameter, i) => `$${i + 1}::${parameter.type === 'jsonb' ? 'text' : parameter.type}[]`).join(', ')}) AS u(${PARAMETERS.map((parameter) => parameter.name).join(', ')})`,
  ref: (parameter) => (parameter.type === 'jsonb' ? `i.${parameter.name}::jsonb` : `i.${parameter.name}`),
  eventSource: 'inserted c JOIN input i ON i.id = c.id',
});
