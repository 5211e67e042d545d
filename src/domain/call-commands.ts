import type { Call, Tenant } from './call.js';
import type { CallLifecycle } from './call-lifecycle.js';
import type { CallStore } from './call-store.js';
import type { CommandStore } from './command-store.js';
import {
  CallCommandType,
  argsProblems,
  commandName,
  commandProblem,
  recordingFormatFor,
  statusesFor,
  type CallCommand,
  type CommandArgs,
  type Recording,
} from './command-rules.js';
import { UserErrorCode, userError, type UserError } from './errors.js';
import { looksLikeCallId, newCommandId } from './ids.js';
import { ProviderError, type ProviderRegistry } from './channel-provider.js';
import type { Logger } from './logger.js';

export interface CommandOutcome {
  call: Call | null;
  command: CallCommand | null;
  userErrors: UserError[];
}

/**
 * Call commands as one tenant gives them. A command is checked against the call's state and
 * direction (command-rules.ts), stored ACCEPTED only if the call is still in that state, then sent to
 * the provider that carries the call. A refusal before the provider is asked changes nothing.
 */
export class CallCommands {
  private readonly calls: CallStore;
  private readonly commands: CommandStore;
  private readonly lifecycle: CallLifecycle;
  private readonly providers: ProviderRegistry;
  readonly tenant: Tenant;

  constructor(parts: { calls: CallStore; commands: CommandStore; lifecycle: CallLifecycle; providers: ProviderRegistry; tenant: Tenant }) {
    this.calls = parts.calls;
    this.commands = parts.commands;
    this.lifecycle = parts.lifecycle;
    this.providers = parts.providers;
    this.tenant = parts.tenant;
  }

  async run(callId: string, args: CommandArgs): Promise<CommandOutcome> {
    const problems = argsProblems(args);
    if (problems.length) return refused(problems);
    const call = looksLikeCallId(callId) ? await this.calls.findById(this.tenant, callId) : null;
    if (!call) return refused([userError(UserErrorCode.CALL_NOT_FOUND, ['input', 'callId'], `No call ${callId.slice(0, 40)} is visible to this key`)]);
    const problem = commandProblem(args, call);
    if (problem) return refused([problem], call);
    // Stored as it will be carried out: a recording without a format gets the call's default.
    if (args.type === CallCommandType.START_RECORDING) args = { ...args, format: recordingFormatFor(args, call) };
    const provider = this.providers.byName(call.provider);
    if (!provider) {
      return refused(
        [
          userError(
            UserErrorCode.PROVIDER_NOT_CONFIGURED,
            ['input', 'callId'],
            `The provider of this call (${call.provider ?? 'none'}) is not configured in this gateway`,
          ),
        ],
        call,
      );
    }
    const unsupported = provider.unsupported(args, call);
    if (unsupported) return refused([userError(UserErrorCode.COMMAND_NOT_ALLOWED, ['input', 'callId'], unsupported)], call);

    const accepted = await this.commands.accept(this.tenant, { id: newCommandId(), callId, args }, statusesFor(args.type));
    if (accepted.kind === 'pending') {
      return refused(
        [
          userError(
            UserErrorCode.COMMAND_NOT_ALLOWED,
            ['input', 'callId'],
            `A ${commandName(args.type)} command on this call is still waiting for its provider`,
          ),
        ],
        call,
      );
    }
    if (accepted.kind === 'state_changed') {
      const now = (await this.calls.findById(this.tenant, callId)) ?? call;
      return refused(
        [commandProblem(args, now) ?? userError(UserErrorCode.COMMAND_NOT_ALLOWED, ['input', 'callId'], 'The call changed state; try again')],
        now,
      );
    }
    const command = accepted.command;
    try {
      const result = await provider.execute(call, command);
      if (result.confirmed) await this.lifecycle.applyCommand(command, call, result.providerRef ?? null);
    } catch (error) {
      const message = error instanceof ProviderError ? error.message : 'The provider could not be reached';
      await this.lifecycle.commandFailed(command.id, message);
      if (!(error instanceof ProviderError)) throw error;
      return {
        ...(await this.current(callId, command)),
        userErrors: [userError(UserErrorCode.PROVIDER_ERROR, ['input', 'callId'], `${error.provider}: ${message}`)],
      };
    }
    return { ...(await this.current(callId, command)), userErrors: [] };
  }

  /** Commands of many calls (for a DataLoader), oldest first. */
  commandsOf(callIds: readonly string[]): Promise<Map<string, CallCommand[]>> {
    return this.commands.commandsOf(this.tenant, callIds);
  }

  /** Recordings of many calls (for a DataLoader), oldest first. */
  recordingsOf(callIds: readonly string[]): Promise<Map<string, Recording[]>> {
    return this.commands.recordingsOf(this.tenant, callIds);
  }

  /** The call and the command as they are now (the provider may already have confirmed it). */
  private async current(callId: string, command: CallCommand): Promise<{ call: Call | null; command: CallCommand }> {
    const [call, latest] = await Promise.all([this.calls.findById(this.tenant, callId), this.commands.findCommand(command.id)]);
    return { call, command: latest ?? command };
  }
}

function refused(userErrors: UserError[], call: Call | null = null): CommandOutcome {
  return { call, command: null, userErrors };
}

/**
 * createCall's recordFromAnswer: once a call that asked for it is answered, its own provider starts
 * recording, as a startRecording of the application would (the command shows in Call.commands).
 */
export function recordFromAnswer(parts: Omit<ConstructorParameters<typeof CallCommands>[0], 'tenant'>, logger: Logger): void {
  parts.lifecycle.onAnsweredToRecord((call) => {
    new CallCommands({ ...parts, tenant: { appId: call.appId, mode: call.mode } })
      .run(call.id, { type: CallCommandType.START_RECORDING, format: call.options.recordFromAnswer ?? null })
      .then((outcome) => {
        if (outcome.userErrors.length) logger.warn('recordFromAnswer: the recording did not start', { callId: call.id, why: outcome.userErrors[0]!.message });
      })
      .catch((error: unknown) => logger.error('recordFromAnswer failed', { callId: call.id, error: (error as Error).message }));
  });
}
