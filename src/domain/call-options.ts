import { MachineDetection, type CallOptions, type Channel } from './call.js';
import type { ChannelProvider } from './channel-provider.js';
import { recordingFormatProblem, type RecordingFormat } from './command-rules.js';
import { UserErrorCode, userError, type UserError } from './errors.js';

/** createCall's options as given (null: not given). */
export interface CallOptionsInput {
  ringTimeout?: number | null;
  timeLimit?: number | null;
  callerName?: string | null;
  machineDetection?: MachineDetection | null;
  recordFromAnswer?: RecordingFormat | null;
  statusCallbackUrl?: string | null;
}

/** Bounds: Telnyx takes timeout_secs 1–600 … we keep a few seconds of ringing at least; time_limit_secs 30–14400. */
const RING_TIMEOUT_SECONDS = { min: 5, max: 600 } as const;
const TIME_LIMIT_SECONDS = { min: 30, max: 14_400 } as const;
const CALLER_NAME_MAX = 64;

/** The options to store: only those given. */
export function callOptions(input: CallOptionsInput): CallOptions {
  const options: CallOptions = {};
  if (input.ringTimeout != null) options.ringTimeout = input.ringTimeout;
  if (input.timeLimit != null) options.timeLimit = input.timeLimit;
  if (input.callerName != null) options.callerName = input.callerName;
  if (input.machineDetection != null) options.machineDetection = input.machineDetection;
  if (input.recordFromAnswer != null) options.recordFromAnswer = input.recordFromAnswer;
  if (input.statusCallbackUrl != null) options.statusCallbackUrl = input.statusCallbackUrl;
  return options;
}

/** Every option that is out of bounds, with its field path (no provider is asked). */
export function optionProblems(input: CallOptionsInput, call: { roomName: string | null }): UserError[] {
  const errors: UserError[] = [];
  const whole = (field: 'ringTimeout' | 'timeLimit', bounds: { min: number; max: number }) => {
    const value = input[field];
    if (value != null && (!Number.isInteger(value) || value < bounds.min || value > bounds.max)) {
      errors.push(userError(UserErrorCode.INVALID_ARGUMENT, ['input', field], `${field} is ${bounds.min} to ${bounds.max} seconds, got ${value}`));
    }
  };
  whole('ringTimeout', RING_TIMEOUT_SECONDS);
  whole('timeLimit', TIME_LIMIT_SECONDS);
  const name = input.callerName;
  if (name != null && (name.trim().length === 0 || name.length > CALLER_NAME_MAX || /[\u0000-\u001f\u007f]/.test(name))) {
    errors.push(
      userError(UserErrorCode.INVALID_ARGUMENT, ['input', 'callerName'], `callerName is 1 to ${CALLER_NAME_MAX} characters with no control characters`),
    );
  }
  const format = recordingFormatProblem(input.recordFromAnswer ?? null, call, ['input', 'recordFromAnswer']);
  if (format) errors.push(format);
  return errors;
}

/** What the provider that would carry the call cannot do of the options: COMMAND_NOT_ALLOWED, with why. */
export function providerRefusals(provider: ChannelProvider, options: CallOptions, channels: { fromChannel: Channel; toChannel: Channel }): UserError[] {
  return (provider.optionRefusals?.(options, channels) ?? []).map(({ option, reason }) =>
    userError(UserErrorCode.COMMAND_NOT_ALLOWED, ['input', option], reason),
  );
}
