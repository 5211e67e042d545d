import { CallEventKind, Channel, type AnsweredBy, type Call, type CallEvent, type Mode, type Tenant } from '../domain/call.js';
import type { CallStatus } from '../domain/call.js';
import type { AcceptCommandResult, CallEffect, CommandStore, EffectPlan } from '../domain/command-store.js';
import {
  CallCommandStatus,
  CallCommandType,
  PENDING_COMMAND_STATUSES,
  RecordingStatus,
  UNSAVED_RECORDING_STATUSES,
  type CallCommand,
  type CommandArgs,
  type Recording,
} from '../domain/command-rules.js';
import { LIVE_STATUSES } from '../domain/call-status-rules.js';
import { CALL_COLUMNS } from './call-columns.js';
import type { Sql } from './sql.js';
import { inList, lit } from './sql-literals.js';

const COMMAND_COLUMNS = `id, call_id AS "callId", type, status, args, error, created_at AS "createdAt", updated_at AS "updatedAt"`;
const RECORDING_COLUMNS = `id, call_id AS "callId", kind, format, status, duration, url, provider_ref AS "providerRef", created_at AS "createdAt"`;
const PENDING = inList(PENDING_COMMAND_STATUSES);
const APPLIED = lit(CallCommandStatus.APPLIED);
const FAILED = lit(CallCommandStatus.FAILED);
const WEBRTC = lit(Channel.WEBRTC);

/**
 * How each effect changes the call row ($7… are the effect's own parameters), the guard that
 * makes a repeated effect a no-op, and what else changes with it in the same statement.
 * Fixed strings: no input ever reaches the SQL text.
 */
const EFFECTS: Record<CallEffect['type'], { set: string; guard: string; also?: string; command?: string; digits?: string }> = {
  [CallEventKind.HELD]: { set: 'on_hold = true', guard: 'NOT c.on_hold' },
  [CallEventKind.UNHELD]: { set: 'on_hold = false', guard: 'c.on_hold' },
  [CallEventKind.MUTED]: { set: 'muted_legs = array_append(c.muted_legs, $7::text)', guard: 'NOT ($7::text = ANY(c.muted_legs))' },
  [CallEventKind.UNMUTED]: { set: 'muted_legs = array_remove(c.muted_legs, $7::text)', guard: '$7::text = ANY(c.muted_legs)' },
  // A transfer to a WebRTC identity gives a call without a room one named after it (a Telnyx call
  // brought into LiveKit over SIP), and shows the room (livekitRoomName) now that a client joins it.
  [CallEventKind.TRANSFERRED]: {
    set: `transferred_to = $7::text, transferred_to_channel = $8::text,
          room_name = CASE WHEN $8::text = ${WEBRTC} THEN COALESCE(c.room_name, c.id) ELSE c.room_name END,
          livekit_room_name = CASE WHEN $8::text = ${WEBRTC} THEN COALESCE(c.livekit_room_name, c.room_name, c.id) ELSE c.livekit_room_name END`,
    guard: 'true',
  },
  [CallEventKind.RECORDING_STARTED]: {
    set: 'recording_id = $7::text',
    guard: 'c.recording_id IS NULL',
    also: `INSERT INTO recording (id, call_id, app_id, mode, format, status, provider_ref, created_at, kind)
           SELECT $7::text, id, app_id, mode, $8::text, ${lit(RecordingStatus.RECORDING)}, $9::text, $4::timestamptz, $10::text FROM updated`,
  },
  [CallEventKind.RECORDING_STOPPED]: {
    set: 'recording_id = NULL',
    guard: 'c.recording_id IS NOT NULL',
    also: `UPDATE recording r SET status = ${lit(RecordingStatus.PROCESSING)}, updated_at = now()
            WHERE r.id = (SELECT previous_recording_id FROM updated) AND r.status = ${lit(RecordingStatus.RECORDING)}`,
  },
  [CallEventKind.RECORDING_SAVED]: {
    set: 'recording_id = CASE WHEN c.recording_id = $7::text THEN NULL ELSE c.recording_id END',
    guard: `EXISTS (SELECT 1 FROM recording r WHERE r.id = $7::text AND r.call_id = c.id AND r.status IN ${inList(UNSAVED_RECORDING_STATUSES)})`,
    also: `UPDATE recording r SET status = CASE WHEN $10::boolean THEN ${lit(RecordingStatus.FAILED)} ELSE ${lit(RecordingStatus.SAVED)} END, url = $8::text,
                  provider_ref = COALESCE(r.provider_ref, $11::text),
                  duration = COALESCE($9::int, GREATEST(0, round(extract(epoch FROM ($4::timestamptz - r.created_at))))::int),
                  updated_at = now()
            WHERE r.id = $7::text AND EXISTS (SELECT 1 FROM updated)`,
  },
  // Events only: the call row changes in nothing but its sequence.
  [CallEventKind.DTMF_SENT]: { set: 'on_hold = c.on_hold', guard: 'true', digits: '$7::text' },
  [CallEventKind.DTMF_RECEIVED]: { set: 'on_hold = c.on_hold', guard: 'true', digits: '$7::text' },
  [CallEventKind.COMMAND_FAILED]: {
    set: 'on_hold = c.on_hold',
    guard: `EXISTS (SELECT 1 FROM call_command k WHERE k.id = $6::text AND k.status IN ${PENDING})`,
    command: `UPDATE call_command SET status = ${FAILED}, error = $7::text, updated_at = now()
               WHERE id = $6::text AND status IN ${PENDING} AND EXISTS (SELECT 1 FROM updated)`,
  },
};

/**
 * What accepting a command re-checks on the locked call row, besides its status: the flag it
 * changes, so that a second holdCall racing a first that was just applied is refused.
 * $6 is the command's args (jsonb).
 */
const ACCEPT_GUARDS: Partial<Record<CommandArgs['type'], string>> = {
  [CallCommandType.HOLD]: 'NOT c.on_hold',
  [CallCommandType.UNHOLD]: 'c.on_hold',
  [CallCommandType.MUTE]: `NOT (($6::jsonb ->> 'leg') = ANY(c.muted_legs))`,
  [CallCommandType.UNMUTE]: `($6::jsonb ->> 'leg') = ANY(c.muted_legs)`,
  [CallCommandType.START_RECORDING]: 'c.recording_id IS NULL',
  [CallCommandType.STOP_RECORDING]: 'c.recording_id IS NOT NULL',
  [CallCommandType.SEND_TO_VOICEMAIL]: 'c.recording_id IS NULL',
};

function effectStatement(type: CallEffect['type']): string {
  const effect = EFFECTS[type];
  const command =
    effect.command ??
    `UPDATE call_command SET status = ${APPLIED}, updated_at = now()
      WHERE $6::text IS NOT NULL AND id = $6::text AND status IN ${PENDING} AND EXISTS (SELECT 1 FROM updated)`;
  return `
WITH old AS (
  SELECT id, recording_id FROM call WHERE id = $1::text FOR UPDATE
), updated AS (
  UPDATE call c SET ${effect.set}, last_sequence = c.last_sequence + 1, updated_at = now()
    FROM old WHERE c.id = old.id AND c.status = ANY($2::text[]) AND ${effect.guard}
  RETURNING c.*, old.recording_id AS previous_recording_id
), event AS (
  INSERT INTO call_event (id, call_id, app_id, mode, sequence, status, previous_status, occurred_at, type, command_id, digits)
  SELECT $3::text, id, app_id, mode, last_sequence, status, status, $4::timestamptz, $5::text, $6::text, ${effect.digits ?? 'NULL'} FROM updated
), command AS (${command})${effect.also ? `, also AS (${effect.also})` : ''}
SELECT ${CALL_COLUMNS}, last_sequence AS sequence FROM updated`;
}

/** The effect's own parameters, $7 onwards, exactly as many as its statement uses. */
function effectValues(effect: CallEffect): unknown[] {
  switch (effect.type) {
    case CallEventKind.MUTED:
    case CallEventKind.UNMUTED:
      return [effect.leg];
    case CallEventKind.TRANSFERRED:
      return [effect.to, effect.toChannel];
    case CallEventKind.RECORDING_STARTED:
      return [effect.recordingId, effect.format, effect.providerRef, effect.kind];
    case CallEventKind.RECORDING_SAVED:
      return [effect.recordingId, effect.url, effect.duration, effect.failed, effect.providerRef];
    case CallEventKind.COMMAND_FAILED:
      return [effect.error];
    case CallEventKind.DTMF_SENT:
    case CallEventKind.DTMF_RECEIVED:
      return [effect.digits];
    default:
      return [];
  }
}

export class PgCommandStore implements CommandStore {
  private readonly statements = new Map<CallEffect['type'], string>();

  constructor(private readonly sql: Sql) {}

  async accept(tenant: Tenant, command: { id: string; callId: string; args: CommandArgs }, statuses: readonly CallStatus[]): Promise<AcceptCommandResult> {
    // Conditional on the call's status (re-checked on the row) and on no pending command of the
    // same type (the partial unique index): two concurrent holdCall requests store one command.
    const guard = ACCEPT_GUARDS[command.args.type] ?? 'true';
    const [row] = await this.sql.query<CallCommand>(
      `INSERT INTO call_command (id, call_id, app_id, mode, type, status, args)
       SELECT $1::text, c.id, c.app_id, c.mode, $5::text, ${lit(CallCommandStatus.ACCEPTED)}, $6::jsonb FROM call c
        WHERE c.app_id = $2 AND c.mode = $3 AND c.id = $4 AND c.status = ANY($7::text[]) AND ${guard}
        -- The lock makes the check see a concurrent effect's commit (re-read under READ COMMITTED).
        FOR UPDATE OF c
       ON CONFLICT (call_id, type) WHERE status IN ${PENDING} DO NOTHING
       RETURNING ${COMMAND_COLUMNS}`,
      [command.id, tenant.appId, tenant.mode, command.callId, command.args.type, JSON.stringify(command.args), statuses],
    );
    if (row) return { kind: 'accepted', command: row };
    const [state] = await this.sql.query<{ inState: boolean }>(
      `SELECT c.status = ANY($4::text[]) AND ${guard.replaceAll('$6', '$5')} AS "inState" FROM call c WHERE c.app_id = $1 AND c.mode = $2 AND c.id = $3`,
      guard.includes('$6')
        ? [tenant.appId, tenant.mode, command.callId, statuses, JSON.stringify(command.args)]
        : [tenant.appId, tenant.mode, command.callId, statuses],
    );
    return state?.inState ? { kind: 'pending' } : { kind: 'state_changed' };
  }

  async applyEffect(plan: EffectPlan): Promise<{ call: Call; event: CallEvent } | null> {
    const type = plan.effect.type;
    let text = this.statements.get(type);
    if (!text) this.statements.set(type, (text = effectStatement(type)));
    const [row] = await this.sql.query<Call & { sequence: number }>(
      text,
      [plan.callId, plan.statuses, plan.eventId, plan.occurredAt, type, plan.commandId, ...effectValues(plan.effect)],
      `effect_${type}`,
    );
    if (!row) return null;
    const { sequence, ...call } = row;
    return {
      call,
      event: {
        id: plan.eventId,
        callId: call.id,
        sequence,
        status: call.status,
        previousStatus: call.status,
        occurredAt: plan.occurredAt,
        kind: type,
        commandId: plan.commandId,
        digits: 'digits' in plan.effect ? plan.effect.digits : null,
        position: null,
      },
    };
  }

  async markFailed(commandId: string, error: string): Promise<void> {
    await this.sql.query(`UPDATE call_command SET status = ${FAILED}, error = $2, updated_at = now() WHERE id = $1 AND status IN ${PENDING}`, [
      commandId,
      error,
    ]);
  }

  async markApplied(commandId: string): Promise<void> {
    await this.sql.query(`UPDATE call_command SET status = ${APPLIED}, updated_at = now() WHERE id = $1 AND status IN ${PENDING}`, [commandId]);
  }

  async findCommand(commandId: string): Promise<CallCommand | null> {
    const [row] = await this.sql.query<CallCommand>(`SELECT ${COMMAND_COLUMNS} FROM call_command WHERE id = $1`, [commandId]);
    return row ?? null;
  }

  async commandsOf(tenant: Tenant, callIds: readonly string[]): Promise<Map<string, CallCommand[]>> {
    const rows = await this.sql.query<CallCommand>(
      `SELECT ${COMMAND_COLUMNS} FROM call_command WHERE app_id = $1 AND mode = $2 AND call_id = ANY($3::text[]) ORDER BY created_at, id`,
      [tenant.appId, tenant.mode, callIds],
    );
    return group(callIds, rows);
  }

  async recordingsOf(tenant: Tenant, callIds: readonly string[]): Promise<Map<string, Recording[]>> {
    const rows = await this.sql.query<Recording>(
      `SELECT ${RECORDING_COLUMNS} FROM recording WHERE app_id = $1 AND mode = $2 AND call_id = ANY($3::text[]) ORDER BY created_at, id`,
      [tenant.appId, tenant.mode, callIds],
    );
    return group(callIds, rows);
  }

  async findRecording(callId: string, providerRef: string | null): Promise<Recording | null> {
    const [row] = await this.sql.query<Recording>(
      `SELECT ${RECORDING_COLUMNS} FROM recording
        WHERE call_id = $1 AND (provider_ref = $2 OR ($2 IS NULL AND status IN ${inList(UNSAVED_RECORDING_STATUSES)}))
        ORDER BY created_at DESC LIMIT 1`,
      [callId, providerRef],
    );
    return row ?? null;
  }

  async recordingById(tenant: Tenant, recordingId: string): Promise<{ recording: Recording; call: Call } | null> {
    const [recording] = await this.sql.query<Recording>(`SELECT ${RECORDING_COLUMNS} FROM recording WHERE app_id = $1 AND mode = $2 AND id = $3`, [
      tenant.appId,
      tenant.mode,
      recordingId,
    ]);
    if (!recording) return null;
    const call = await this.findCall({ callId: recording.callId });
    return call ? { recording, call } : null;
  }

  async findCall(ref: { callId: string } | { provider: string; providerCallId: string }): Promise<Call | null> {
    const [row] =
      'callId' in ref
        ? await this.sql.query<Call>(`SELECT ${CALL_COLUMNS} FROM call WHERE id = $1`, [ref.callId])
        : await this.sql.query<Call>(`SELECT ${CALL_COLUMNS} FROM call WHERE provider = $1 AND provider_call_id = $2`, [ref.provider, ref.providerCallId]);
    return row ?? null;
  }

  async overdueCommands(olderThanMs: number, limit: number): Promise<string[]> {
    const rows = await this.sql.query<{ id: string }>(
      `SELECT id FROM call_command WHERE status IN ${PENDING} AND created_at < now() - make_interval(secs => $1::double precision / 1000) ORDER BY created_at LIMIT $2`,
      [olderThanMs, limit],
    );
    return rows.map((row) => row.id);
  }

  async staleLiveCalls(statuses: readonly CallStatus[], olderThanMs: number, limit: number): Promise<{ id: string; appId: string }[]> {
    return this.sql.query<{ id: string; appId: string }>(
      `SELECT c.id, c.app_id AS "appId" FROM call c
        WHERE c.mode = ${lit('live' satisfies Mode)} AND c.status = ANY($1::text[])
          AND c.status IN ${inList(LIVE_STATUSES)}
          AND c.updated_at < now() - make_interval(secs => $2::double precision / 1000)
        ORDER BY c.created_at LIMIT $3`,
      [statuses, olderThanMs, limit],
    );
  }

  async setAnsweredBy(callId: string, answeredBy: AnsweredBy): Promise<void> {
    await this.sql.query(`UPDATE call SET answered_by = $2, updated_at = now() WHERE id = $1 AND answered_by IS NULL`, [callId, answeredBy]);
  }

  async setProviderCallId(callId: string, providerCallId: string): Promise<void> {
    await this.sql.query(`UPDATE call SET provider_call_id = $2 WHERE id = $1`, [callId, providerCallId]);
  }
}

function group<T extends { callId: string }>(callIds: readonly string[], rows: T[]): Map<string, T[]> {
  const byCall = new Map<string, T[]>(callIds.map((id) => [id, []]));
  for (const row of rows) byCall.get(row.callId)?.push(row);
  return byCall;
}
