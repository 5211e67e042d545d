import { Arg, Ctx, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import type { Call, CallEvent } from '../../domain/call.js';
import { decodeEventCursor, encodeEventCursor } from '../../domain/cursor.js';
import { InvalidArgumentError } from '../../domain/errors.js';
import type { GatewayContext } from '../context.js';
import { CallObject } from '../types/call.type.js';
import { CallEventConnectionObject, CallEventObject } from '../types/call-event.type.js';
import { toConnection, type ConnectionShape } from '../types/connection.js';
import { CallCommandArgumentsObject, CallCommandObject, RecordingObject } from '../types/call-command.type.js';
import { RecordingStatus, type CallCommand, type CommandArgs, type Recording } from '../../domain/command-rules.js';

const MAX_EVENTS = 100;
const DEFAULT_EVENTS = 50;

@Resolver(() => CallObject)
export class CallFieldsResolver {
  @FieldResolver(() => CallEventConnectionObject, { description: 'The status timeline, oldest first.' })
  async events(
    @Root() call: Call,
    @Ctx() ctx: GatewayContext,
    @Arg('first', () => Int, { nullable: true, description: `Page size (0 to ${MAX_EVENTS}; default ${DEFAULT_EVENTS}).` }) first?: number | null,
    @Arg('after', () => String, { nullable: true, description: 'Cursor of an event of this call: return the events after it.' }) after?: string | null,
  ): Promise<ConnectionShape<CallEvent>> {
    const size = first ?? DEFAULT_EVENTS;
    if (!Number.isInteger(size) || size < 0 || size > MAX_EVENTS) {
      throw new InvalidArgumentError('first', `"first" must be between 0 and ${MAX_EVENTS}, got ${size}`);
    }
    const afterSequence = after != null ? decodeEventCursor(after, 'after').sequence : 0;
    const events = size === 0 ? [] : await ctx.loaders.events(size, afterSequence).load(call.id);
    const hasNextPage = events.length > size;
    return toConnection(events.slice(0, size), eventCursor, { hasNextPage, hasPreviousPage: afterSequence > 0 });
  }

  @FieldResolver(() => Boolean, { description: 'Being recorded now (startRecording).' })
  recording(@Root() call: Call): boolean {
    return call.recordingId !== null;
  }

  @FieldResolver(() => [RecordingObject], { description: 'Recordings of the call, oldest first.' })
  recordings(@Root() call: Call, @Ctx() ctx: GatewayContext): Promise<Recording[]> {
    return ctx.loaders.recordings.load(call.id);
  }

  @FieldResolver(() => [CallCommandObject], { description: 'Commands given to the call, oldest first, with what became of each.' })
  commands(@Root() call: Call, @Ctx() ctx: GatewayContext): Promise<CallCommand[]> {
    return ctx.loaders.commands.load(call.id);
  }
}

function eventCursor(event: CallEvent): string {
  return encodeEventCursor({ position: event.position, callId: event.callId, sequence: event.sequence });
}

@Resolver(() => CallEventObject)
export class CallEventFieldsResolver {
  @FieldResolver(() => String, { description: 'Opaque, global position of this event; pass to callStatus(after:) to resume from it.' })
  cursor(@Root() event: CallEvent): string {
    return eventCursor(event);
  }

  @FieldResolver(() => CallCommandObject, {
    nullable: true,
    description: 'The command that caused this event (hangupCall, holdCall …); null when the provider or the network did.',
  })
  async command(@Root() event: CallEvent, @Ctx() ctx: GatewayContext): Promise<CallCommand | null> {
    if (!event.commandId) return null;
    return (await ctx.loaders.commands.load(event.callId)).find((command) => command.id === event.commandId) ?? null;
  }

  @FieldResolver(() => CallObject, { description: 'The call this event belongs to, in its current state.' })
  async call(@Root() event: CallEvent & { call?: Call }, @Ctx() ctx: GatewayContext): Promise<Call> {
    // Live and replayed events carry their call (read with the event); no query per subscriber.
    if (event.call) return event.call;
    const call = await ctx.loaders.call.load(event.callId);
    if (!call) throw new Error(`call ${event.callId} of event ${event.id} not found`);
    return call;
  }
}

@Resolver(() => CallCommandObject)
export class CallCommandFieldsResolver {
  // The domain calls them args (`arguments` is JavaScript's own); the field reads them as stored.
  @FieldResolver(() => CallCommandArgumentsObject, { description: 'What it was given: the leg, the transfer target, the format, the digits …' })
  arguments(@Root() command: CallCommand): CommandArgs {
    return command.args;
  }
}

@Resolver(() => RecordingObject)
export class RecordingFieldsResolver {
  @FieldResolver(() => String, {
    nullable: true,
    description:
      "Where to fetch the file: the gateway's GET /recordings/{id}, with the application's key (Authorization: Bearer), which redirects to a link that works now (a provider's own links may expire, as Telnyx's do after 10 minutes). null until saved, or if saving failed.",
  })
  url(@Root() recording: Recording, @Ctx() ctx: GatewayContext): string | null {
    return recording.status === RecordingStatus.SAVED ? `${ctx.baseUrl}/recordings/${recording.id}` : null;
  }
}
