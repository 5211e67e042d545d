import { CallDirection, CallEventKind, CallStatus, Channel, type Call, type Mode } from '../../src/domain/call.js';
import type { CallEventWithCall } from '../../src/domain/call-store.js';
import type { EventListener, EventLog } from '../../src/events/event-log.js';

/** A PSTN to PSTN test call with nothing set; `overrides` says what a test cares about. */
export function testCall(overrides: Partial<Call> = {}): Call {
  return {
    id: 'call_test_x',
    appId: 'app_x',
    mode: 'test',
    direction: CallDirection.OUTBOUND,
    status: CallStatus.RINGING,
    fromAddress: '+15551234567',
    toAddress: '+15557654321',
    fromChannel: Channel.PSTN,
    toChannel: Channel.PSTN,
    duration: null,
    endReason: null,
    hangupSource: null,
    sipCode: null,
    options: {},
    answeredBy: null,
    metadata: {},
    livekitRoomName: null,
    roomName: null,
    startedAt: null,
    answeredAt: null,
    endedAt: null,
    createdAt: new Date(0),
    provider: 'simulator',
    providerCallId: null,
    onHold: false,
    mutedLegs: [],
    recordingId: null,
    transferredTo: null,
    transferredToChannel: null,
    version: 1,
    ...overrides,
  };
}

/** A status change of `call` (its status is the event's), as the log hands it out. */
export function testEvent(
  call: Partial<Call> & { id: string },
  event: { id?: string; sequence: number; position: number | null; previousStatus?: CallStatus | null },
): CallEventWithCall {
  const full = testCall(call);
  return {
    id: event.id ?? `evt_${full.id}_${event.sequence}`,
    callId: full.id,
    sequence: event.sequence,
    status: full.status,
    previousStatus: event.previousStatus ?? null,
    occurredAt: new Date(0),
    kind: CallEventKind.STATUS_CHANGED,
    commandId: null,
    digits: null,
    position: event.position === null ? null : String(event.position),
    call: full,
  };
}

/** The live side of the log: each tenant's listeners, called synchronously with the same event object, as the tailer does. */
export class FakeEventLog implements Pick<EventLog, 'listen' | 'listenerCount'> {
  private readonly listeners = new Map<string, Set<EventListener>>();

  listen(appId: string, mode: Mode, listener: EventListener): () => void {
    const key = `${appId}:${mode}`;
    const set = this.listeners.get(key) ?? new Set();
    this.listeners.set(key, set.add(listener));
    return () => set.delete(listener);
  }

  emit(...events: CallEventWithCall[]): void {
    for (const event of events) for (const listener of this.listeners.get(`${event.call.appId}:${event.call.mode}`) ?? []) listener(event);
  }

  get listenerCount(): number {
    let count = 0;
    for (const set of this.listeners.values()) count += set.size;
    return count;
  }
}
