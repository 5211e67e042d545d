import { AnsweredBy, CallDirection, CallStatus, EndReason, HangupSource, MachineDetection, type Call, type CallOptions } from '../../domain/call.js';
import type { ParkedState } from '../../domain/call-store.js';

/** One simulated transition, `afterMs` after the previous one (at SIMULATOR_TIME_SCALE 1). */
export interface SimulatedStep {
  status: CallStatus;
  afterMs: number;
  endReason?: EndReason;
  /** Who ends the call (else the lifecycle's default for the status). */
  hangupSource?: HangupSource;
  /** The SIP code a carrier would give for this end. */
  sipCode?: number;
  /** Machine detection's result, told before the step applies. */
  answeredBy?: AnsweredBy;
}

/**
 * What a test-mode call does, chosen by its destination (the contract's magic numbers).
 * Delays are those of a real call: a second to reach the network, a few seconds of ringing,
 * a short conversation.
 */
const MAGIC_NUMBERS: Record<string, { description: string; steps: SimulatedStep[] }> = {
  '+15005550001': {
    description: 'answered, completes normally (endReason hangup)',
    steps: [
      { status: CallStatus.RINGING, afterMs: 1_000 },
      { status: CallStatus.IN_PROGRESS, afterMs: 4_000 },
      { status: CallStatus.COMPLETED, afterMs: 10_000, endReason: EndReason.HANGUP, hangupSource: HangupSource.CALLEE },
    ],
  },
  '+15005550002': {
    description: 'BUSY (busy, SIP 486)',
    steps: [{ status: CallStatus.BUSY, afterMs: 1_500, endReason: EndReason.BUSY, sipCode: 486 }],
  },
  '+15005550003': {
    description: 'NO_ANSWER after ringing (no_answer, SIP 480)',
    steps: [
      { status: CallStatus.RINGING, afterMs: 1_000 },
      { status: CallStatus.NO_ANSWER, afterMs: 20_000, endReason: EndReason.NO_ANSWER, sipCode: 480 },
    ],
  },
  '+15005550004': {
    description: 'FAILED (failed, SIP 503)',
    steps: [{ status: CallStatus.FAILED, afterMs: 1_000, endReason: EndReason.FAILED, sipCode: 503 }],
  },
  '+15005550005': {
    description: 'VOICEMAIL, then COMPLETED (voicemail)',
    steps: [
      { status: CallStatus.RINGING, afterMs: 1_000 },
      { status: CallStatus.VOICEMAIL, afterMs: 6_000 },
      { status: CallStatus.COMPLETED, afterMs: 8_000, endReason: EndReason.VOICEMAIL, hangupSource: HangupSource.CALLER },
    ],
  },
  '+15005550006': {
    description: 'answered and stays IN_PROGRESS until a command ends it',
    steps: [
      { status: CallStatus.RINGING, afterMs: 1_000 },
      { status: CallStatus.IN_PROGRESS, afterMs: 4_000 },
    ],
  },
};

/** Any other destination rings, is answered and completes, like +15005550001. */
function scenarioFor(to: string): SimulatedStep[] {
  return (MAGIC_NUMBERS[to] ?? MAGIC_NUMBERS['+15005550001']!).steps;
}

/**
 * An inbound test call (simulateInboundCall) rings until answerCall, rejectCall or
 * sendToVoicemail, and is NO_ANSWER after 30 s; once answered, the caller hangs up after 10 s.
 */
const INBOUND_STEPS: SimulatedStep[] = [
  { status: CallStatus.RINGING, afterMs: 1_000 },
  { status: CallStatus.NO_ANSWER, afterMs: 30_000, endReason: EndReason.NO_ANSWER, sipCode: 480 },
];

/** Where a call goes from a status its scenario does not list (a command put it there). */
const AFTER_COMMAND: Partial<Record<CallStatus, SimulatedStep>> = {
  [CallStatus.IN_PROGRESS]: { status: CallStatus.COMPLETED, afterMs: 10_000, endReason: EndReason.HANGUP, hangupSource: HangupSource.CALLER },
  // No endReason: the lifecycle gives COMPLETED after VOICEMAIL the reason "voicemail".
  [CallStatus.VOICEMAIL]: { status: CallStatus.COMPLETED, afterMs: 8_000, hangupSource: HangupSource.CALLER },
};

/** The step that follows the call's status in its scenario, or null when the scenario is done. */
function scenarioStep(call: Pick<Call, 'toAddress' | 'status' | 'direction'>): SimulatedStep | null {
  const steps = call.direction === CallDirection.INBOUND ? INBOUND_STEPS : scenarioFor(call.toAddress);
  if (call.status === CallStatus.INITIATED) return steps[0] ?? null;
  const index = steps.findIndex((step) => step.status === call.status);
  if (index >= 0) return steps[index + 1] ?? null;
  return AFTER_COMMAND[call.status] ?? null;
}

/**
 * The next step, as createCall's options change it (outbound calls only):
 * - ringTimeout: a call still ringing that long ends NO_ANSWER (SYSTEM, SIP 408 Request Timeout,
 *   where a scenario's own NO_ANSWER is 480);
 * - timeLimit: an answered call ends COMPLETED time_limit (SYSTEM) at the limit, even one its
 *   scenario would leave IN_PROGRESS;
 * - machineDetection: unset or DETECT/DETECT_BEEP tells HUMAN on answer and MACHINE on VOICEMAIL;
 *   OFF leaves a voicemail box undetected (IN_PROGRESS, answeredBy null).
 */
export function nextStep(
  call: Pick<Call, 'toAddress' | 'status' | 'direction'> & { options?: CallOptions; transferredTo?: string | null },
): SimulatedStep | null {
  let step = scenarioStep(call);
  const options = call.options ?? {};
  if (call.direction === CallDirection.INBOUND) {
    // Routed by its number (FORWARD, RING_WEBRTC): the forwarded number or the browser takes it after 3 s.
    return call.transferredTo && call.status === CallStatus.RINGING ? { status: CallStatus.IN_PROGRESS, afterMs: 3_000 } : step;
  }
  if (step && options.machineDetection === MachineDetection.OFF && step.status === CallStatus.VOICEMAIL) {
    step = { status: CallStatus.IN_PROGRESS, afterMs: step.afterMs };
  } else if (step && options.machineDetection !== MachineDetection.OFF) {
    if (step.status === CallStatus.IN_PROGRESS) step = { ...step, answeredBy: AnsweredBy.HUMAN };
    if (step.status === CallStatus.VOICEMAIL) step = { ...step, answeredBy: AnsweredBy.MACHINE };
  }
  const ring = options.ringTimeout !== undefined ? options.ringTimeout * 1000 : null;
  if (ring !== null && call.status === CallStatus.RINGING && step && step.afterMs > ring) {
    return { status: CallStatus.NO_ANSWER, afterMs: ring, endReason: EndReason.NO_ANSWER, hangupSource: HangupSource.SYSTEM, sipCode: 408 };
  }
  const limit = options.timeLimit !== undefined ? options.timeLimit * 1000 : null;
  if (limit !== null && call.status === CallStatus.IN_PROGRESS && (!step || step.afterMs > limit)) {
    return { status: CallStatus.COMPLETED, afterMs: limit, endReason: EndReason.TIME_LIMIT, hangupSource: HangupSource.SYSTEM };
  }
  return step;
}

/** Where a scenario stops before a terminal status (the call waits for a command): nothing is due for such a call. */
export const PARKED: readonly ParkedState[] = Object.entries(MAGIC_NUMBERS).flatMap(([toAddress, { steps }]) => {
  const last = steps.at(-1)!;
  return nextStep({ toAddress, status: last.status, direction: CallDirection.OUTBOUND }) ? [] : [{ toAddress, status: last.status }];
});
