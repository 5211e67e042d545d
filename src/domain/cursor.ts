import { CallOrderField, type CallKey } from './call-store.js';
import { InvalidArgumentError } from './errors.js';

/**
 * Opaque cursors: base64url of a tagged tuple. Opaque to clients (they must not build them),
 * but plain to us; a tampered cursor decodes to nothing and is refused with the argument's name.
 */
const ORDER_FIELDS = new Set<string>(Object.values(CallOrderField));

/**
 * `c1|<createdAt>|<id>` in the default order (the cursors issued before other orders existed
 * still work); `c2|<field>|<value>|<id>` in the others. A cursor of one order is refused in another.
 */
export function encodeCallCursor(key: CallKey): string {
  const value = key.value instanceof Date ? key.value.toISOString() : String(key.value);
  const text = key.field === CallOrderField.CREATED_AT ? `c1|${value}|${key.id}` : `c2|${key.field}|${value}|${key.id}`;
  return Buffer.from(text).toString('base64url');
}

export function decodeCallCursor(cursor: string, argument: string, field: CallOrderField): CallKey {
  const parts = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const [tag, ...rest] = parts;
  const [keyField, raw, id]: (string | undefined)[] =
    tag === 'c1' && rest.length === 2 ? [CallOrderField.CREATED_AT as string, ...rest] : tag === 'c2' && rest.length === 3 ? rest : [];
  const refuse = (why = 'is not a cursor returned by this API') => new InvalidArgumentError(argument, `"${argument}" ${why}`);
  if (keyField === undefined || !ORDER_FIELDS.has(keyField) || !/^call_(test_)?[0-9A-Za-z]{27}$/.test(id ?? '')) throw refuse();
  if (keyField !== (field as string)) throw refuse(`is a cursor of a listing ordered by ${keyField.toUpperCase()}, not ${field.toUpperCase()}`);
  if (field === CallOrderField.DURATION) {
    if (!/^\d{1,9}$/.test(raw!)) throw refuse();
    return { field, value: Number(raw), id: id! };
  }
  const at = instantAsWritten(raw!);
  if (!at) throw refuse();
  return { field, value: at, id: id! };
}

/**
 * The instant of a cursor, only in the form the gateway writes (Date#toISOString of a time
 * PostgreSQL can hold: years 1000 to 9999 here); anything else is no cursor of ours. A date outside
 * PostgreSQL's range would otherwise reach the database and fail there.
 */
function instantAsWritten(raw: string): Date | null {
  if (!/^[1-9]\d{3}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(raw)) return null;
  const at = new Date(raw);
  return !Number.isNaN(at.getTime()) && at.toISOString() === raw ? at : null;
}

/** Webhook deliveries page by (createdAt, id) like calls, with their own tag and id shape. */
export function encodeDeliveryCursor(key: { createdAt: Date; id: string }): string {
  return Buffer.from(`d1|${key.createdAt.toISOString()}|${key.id}`).toString('base64url');
}

export function decodeDeliveryCursor(cursor: string, argument: string): { createdAt: Date; id: string } {
  const parts = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = parts.length === 3 && parts[0] === 'd1' ? instantAsWritten(parts[1]!) : null;
  if (!createdAt || !/^msg_[0-9a-f]{32}$/.test(parts[2]!)) {
    throw new InvalidArgumentError(argument, `"${argument}" is not a cursor returned by this API`);
  }
  return { createdAt, id: parts[2]! };
}

/** PostgreSQL's bigint: a log position past it is no position of ours. */
const MAX_POSITION = 9_223_372_036_854_775_807n;

/**
 * Event cursors carry the log position (null while not yet sequenced: encoded as 0) and the
 * call and sequence of the event, so a stream of one call resumes by sequence.
 */
export interface EventKey {
  position: string | null;
  callId: string;
  sequence: number;
}

export function encodeEventCursor(key: EventKey): string {
  return Buffer.from(`e1|${key.position ?? '0'}|${key.callId}|${key.sequence}`).toString('base64url');
}

/**
 * A place in the log with no event of its own (CallStats.asOf): `callStatus(after:)` of a tenant
 * replays what was numbered after `position`. Not a cursor of any one call.
 */
export function encodeLogCursor(position: string): string {
  return Buffer.from(`e1|${position}|-|0`).toString('base64url');
}

export function decodeEventCursor(cursor: string, argument: string): EventKey {
  const parts = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (parts.length === 4 && parts[0] === 'e1' && parts[2] === '-' && parts[3] === '0' && /^\d{1,19}$/.test(parts[1]!) && BigInt(parts[1]!) <= MAX_POSITION) {
    return { position: parts[1]!, callId: '', sequence: 0 };
  }
  const ok = parts.length === 4 && parts[0] === 'e1' && /^\d{1,19}$/.test(parts[1]!) && BigInt(parts[1]!) <= MAX_POSITION && /^\d{1,9}$/.test(parts[3]!);
  if (!ok) throw new InvalidArgumentError(argument, `"${argument}" is not an event cursor returned by this API`);
  const ok2 = /^call_(test_)?[0-9A-Za-z]{27}$/.test(parts[2]!);
  if (!ok2) throw new InvalidArgumentError(argument, `"${argument}" is not an event cursor returned by this API`);
  return { position: parts[1] === '0' ? null : parts[1]!, callId: parts[2]!, sequence: Number(parts[3]) };
}
