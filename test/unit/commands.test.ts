import { describe, expect, it } from 'vitest';
import { CallDirection, CallLeg, CallStatus, Channel, type Call } from '../../src/domain/call.js';
import { testCall } from './fixtures.js';
import {
  CallCommandType,
  RecordingFormat,
  RejectReason,
  commandProblem,
  commandTransition,
  statusesFor,
  type CommandArgs,
} from '../../src/domain/command-rules.js';
import { canMove, isTerminal } from '../../src/domain/call-status-rules.js';

const ALL = Object.values(CallStatus);

function call(status: CallStatus, direction = CallDirection.OUTBOUND, flags: Partial<Call> = {}): Call {
  return testCall({ status, direction, ...flags });
}

const EVERY: CommandArgs[] = [
  { type: CallCommandType.ANSWER },
  { type: CallCommandType.REJECT, reason: RejectReason.BUSY },
  { type: CallCommandType.HANGUP },
  { type: CallCommandType.HOLD, musicUrl: null },
  { type: CallCommandType.UNHOLD },
  { type: CallCommandType.MUTE, leg: CallLeg.TO },
  { type: CallCommandType.UNMUTE, leg: CallLeg.TO },
  { type: CallCommandType.TRANSFER, to: '+15550000000', toChannel: Channel.PSTN },
  { type: CallCommandType.START_RECORDING, format: RecordingFormat.OGG },
  { type: CallCommandType.STOP_RECORDING },
  { type: CallCommandType.SEND_TO_VOICEMAIL },
];

describe('call command rules', () => {
  it('nothing applies to an ended call: CALL_NOT_ACTIVE', () => {
    for (const status of ALL.filter(isTerminal)) {
      for (const args of EVERY) expect(commandProblem(args, call(status, CallDirection.INBOUND))?.code).toBe('CALL_NOT_ACTIVE');
    }
  });

  it('a command is never accepted outside the statuses it applies in (the store re-checks the same list)', () => {
    for (const status of ALL.filter((s) => !isTerminal(s))) {
      for (const args of EVERY) {
        const allowed = statusesFor(args.type).includes(status);
        const problem = commandProblem(args, call(status, CallDirection.INBOUND, { onHold: true, mutedLegs: [CallLeg.TO], recordingId: 'rec_x' }));
        if (!allowed) expect(problem?.code).toBe('COMMAND_NOT_ALLOWED');
      }
    }
  });

  it('every status a command moves a call to is a move the lifecycle allows from where it applies', () => {
    for (const args of EVERY) {
      for (const from of statusesFor(args.type)) {
        for (const direction of [CallDirection.INBOUND, CallDirection.OUTBOUND]) {
          const transition = commandTransition(args, { status: from, direction });
          if (transition) expect(canMove(from, transition.status), `${args.type} from ${from} (${direction})`).toBe(true);
        }
      }
    }
  });

  it('answer and reject need a ringing inbound call; hangup cancels an outbound call before answer, declines a ringing inbound one, and completes after', () => {
    expect(commandProblem({ type: CallCommandType.ANSWER }, call(CallStatus.RINGING))?.message).toMatch(/outbound/);
    expect(commandProblem({ type: CallCommandType.ANSWER }, call(CallStatus.RINGING, CallDirection.INBOUND))).toBeNull();
    const hangup = (status: CallStatus, direction = CallDirection.OUTBOUND) => commandTransition({ type: CallCommandType.HANGUP }, { status, direction });
    expect(hangup(CallStatus.RINGING)).toEqual({ status: CallStatus.CANCELED, endReason: 'hangup' });
    expect(hangup(CallStatus.RINGING, CallDirection.INBOUND)).toEqual({ status: CallStatus.BUSY, endReason: 'rejected' });
    expect(hangup(CallStatus.IN_PROGRESS)).toEqual({ status: CallStatus.COMPLETED, endReason: 'hangup' });
    expect(hangup(CallStatus.IN_PROGRESS, CallDirection.INBOUND)).toEqual({ status: CallStatus.COMPLETED, endReason: 'hangup' });
    expect(hangup(CallStatus.VOICEMAIL)).toEqual({ status: CallStatus.COMPLETED, endReason: 'voicemail' });
  });

  it('flag commands check the flag they change', () => {
    const live = call(CallStatus.IN_PROGRESS);
    expect(commandProblem({ type: CallCommandType.HOLD, musicUrl: null }, { ...live, onHold: true })?.message).toMatch(/already on hold/);
    expect(commandProblem({ type: CallCommandType.UNHOLD }, live)?.message).toMatch(/not on hold/);
    expect(commandProblem({ type: CallCommandType.MUTE, leg: CallLeg.FROM }, { ...live, mutedLegs: [CallLeg.TO] })).toBeNull();
    expect(commandProblem({ type: CallCommandType.STOP_RECORDING }, live)?.message).toMatch(/not being recorded/);
  });
});
