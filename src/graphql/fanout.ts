import { contextOfTraceParent, inSpan, tracing } from '../shared/tracing.js';
import { execute, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Executor } from './executor.js';
import type { CallEventWithCall } from '../domain/call-store.js';
import { liveEventMatches, type DeliveryMark, type LiveSink, type StreamRequest } from '../events/call-event-stream.js';
import type { EventLog } from '../events/event-log.js';
import { formatGatewayError } from './errors.js';
import { flatString } from '../shared/flat-string.js';
import { executeShared, type SocketOperation } from './shared-execution.js';
import type { Logger } from '../domain/logger.js';

interface Member {
  operation: SocketOperation;
  mark: DeliveryMark;
  /** `{"id":"…","type":"next","payload":` — the frame up to the shared payload. */
  prefix: string;
}

/**
 * Live delivery of callStatus to many sockets at the cost of one. Subscriptions of one tenant
 * with the same selection, variables (so the same filter and callId) form a group; the group
 * listens to the event log once, executes each event once, serializes the payload once, and
 * writes `prefix + payload + "}"` (a graphql-transport-ws `next` message) to every member.
 * Each member keeps its own dedupe mark, since it joined after its own replay. Fast path and
 * reference: the frame built here beside graphql-ws's own `next` message, held together by
 * test/unit/fanout.test.ts and every callStatus test over WebSocket (the client parses the frames).
 */
export class FanoutHub {
  private readonly groups = new Map<string, FanoutGroup>();

  constructor(
    private readonly log: EventLog,
    private readonly production: boolean,
    private readonly logger: Logger,
    /** Executes each event once per group (graphql-jit or graphql-js, see graphql/executor.ts). */
    private readonly run: Executor = execute,
  ) {}

  sink(args: ExecutionArgs, key: string, operation: SocketOperation): LiveSink {
    return {
      attach: (request: StreamRequest, mark: DeliveryMark) => {
        // An access token's filter narrows what its subscriptions see: only the same filter shares a group.
        const scope = request.tenant.scope ? JSON.stringify(request.tenant.scope) : '';
        const groupKey = `${request.tenant.appId}:${request.tenant.mode}\u0000${scope}\u0000${key}`;
        let group = this.groups.get(groupKey);
        if (!group) {
          // The group executes with a context of its own: keeping its first member's would keep
          // that member's socket alive after it leaves.
          const context = args.contextValue as { forLiveEvents?: () => unknown } | undefined;
          const groupArgs = context?.forLiveEvents ? { ...args, contextValue: context.forLiveEvents() } : args;
          group = new FanoutGroup(groupKey, groupArgs, key, request, this.log, (result) => this.format(result), this.logger, this.run);
          this.groups.set(groupKey, group);
        }
        // Flat: kept for the subscription's life, and the start of every frame it is sent.
        const member: Member = { operation, mark, prefix: flatString(`{"id":${JSON.stringify(operation.id)},"type":"next","payload":`) };
        group.members.add(member);
        return leaving(this, group, member);
      },
    };
  }

  /**
   * A member leaves; the last one closes its group. The detach closure keeps the group, not the
   * key it was found by: that string is built per subscriber (≈0.14 KB each while idle).
   */
  leave(group: FanoutGroup, member: Member): void {
    group.members.delete(member);
    if (group.members.size === 0 && this.groups.get(group.groupKey) === group) {
      group.close();
      this.groups.delete(group.groupKey);
    }
  }

  get groupCount(): number {
    return this.groups.size;
  }

  get memberCount(): number {
    let count = 0;
    for (const group of this.groups.values()) count += group.members.size;
    return count;
  }

  private format(result: ExecutionResult): string {
    const { errors, ...rest } = result;
    return JSON.stringify(errors ? { ...rest, errors: errors.map((error) => formatGatewayError(error.toJSON(), error, this.production)) } : rest);
  }
}

/**
 * A member's detach function, made outside `sink`: a closure made inside it would keep sink's
 * scope (the operation's arguments, so its context and services: ≈0.6 KB) for as long as the
 * subscription lasts.
 */
function leaving(hub: FanoutHub, group: FanoutGroup, member: Member): () => void {
  return () => hub.leave(group, member);
}

class FanoutGroup {
  readonly members = new Set<Member>();
  private readonly unlisten: () => void;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    /** Its key in the hub: tenant, scope and selection. */
    readonly groupKey: string,
    private readonly args: ExecutionArgs,
    private readonly key: string,
    request: StreamRequest,
    log: EventLog,
    private readonly format: (result: ExecutionResult) => string,
    private readonly logger: Logger,
    private readonly run: Executor,
  ) {
    this.unlisten = log.listen(request.tenant.appId, request.tenant.mode, (event) => {
      if (liveEventMatches(request, event)) {
        // In log order: each event is sent to every member before the next one.
        this.chain = this.chain.then(() => (tracing.on ? this.traced(event) : this.deliver(event)));
      }
    });
  }

  /** One event's fan-out as a span of its call's trace (tracing on). */
  private traced(event: CallEventWithCall): Promise<void> {
    return inSpan(
      'callStatus fan-out',
      {
        parent: contextOfTraceParent(event.call.traceParent),
        attributes: { 'calls.call_id': event.callId, 'calls.status': event.status, 'calls.sequence': event.sequence, 'calls.subscribers': this.members.size },
      },
      () => this.deliver(event),
    );
  }

  private async deliver(event: CallEventWithCall): Promise<void> {
    let payload: string;
    try {
      payload = this.format(await executeShared(this.args, this.key, event, this.run));
    } catch (error) {
      this.logger.error('live delivery failed', { error: (error as Error).message });
      return;
    }
    for (const member of this.members) {
      // One member's failing socket must not cost the members after it this event.
      try {
        if (!member.mark.isNew(event)) continue;
        member.mark.sent(event);
        member.operation.send(member.prefix + payload + '}');
      } catch (error) {
        this.logger.error('live delivery to a subscriber failed', { error: (error as Error).message });
      }
    }
  }

  close(): void {
    this.unlisten();
  }
}
