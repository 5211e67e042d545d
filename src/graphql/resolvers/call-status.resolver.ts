import { Arg, ID, Resolver, Root, Subscription, type SubscribeResolverData } from 'type-graphql';
import type { CallEventWithCall } from '../../domain/call-store.js';
import type { GatewayContext } from '../context.js';
import { CallEventObject } from '../types/call-event.type.js';
import { CallFilterInput } from '../inputs/call-filter.input.js';

interface CallStatusArgs {
  callId?: string | null;
  filter?: CallFilterInput | null;
  after?: string | null;
}

@Resolver()
export class CallStatusResolver {
  @Subscription(() => CallEventObject, {
    description:
      "Status changes of one call (callId) or of every call of the key's application and mode that matches filter (status matches the event's status). " +
      'With after: first replays every event after that cursor, then goes live, with no gap and no duplicate. ' +
      "Without after and with callId: first emits the call's current state (its newest event).",
    subscribe: ({ args, context }: SubscribeResolverData<unknown, CallStatusArgs, GatewayContext>) =>
      context.calls.liveEvents({ callId: args.callId ?? null, filter: args.filter ?? null, after: args.after ?? null }),
  })
  callStatus(
    @Root() event: CallEventWithCall,
    @Arg('callId', () => ID, { nullable: true, description: "Only this call's events." }) _callId?: string | null,
    @Arg('filter', () => CallFilterInput, { nullable: true, description: "Only events of calls matching this, as in `calls`; `status` is the event's status." })
    _filter?: CallFilterInput | null,
    @Arg('after', () => String, { nullable: true, description: 'A CallEvent.cursor, or (without callId) a CallStats.asOf: replay every later event first.' })
    _after?: string | null,
  ): CallEventWithCall {
    return event;
  }
}
