import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import type { CreateCallResult } from '../../domain/call-service.js';
import type { GatewayContext } from '../context.js';
import { CreateCallInput } from '../inputs/create-call.input.js';
import { CreateCallPayload } from '../types/create-call.payload.js';
import { Channel } from '../../domain/call.js';

@Resolver()
export class CreateCallResolver {
  @Mutation(() => CreateCallPayload, {
    description: 'Places an outbound call. Expected failures come back in userErrors and change nothing.',
  })
  async createCall(
    @Arg('input', () => CreateCallInput, { description: 'The call to place.' }) input: CreateCallInput,
    @Ctx() ctx: GatewayContext,
  ): Promise<CreateCallResult> {
    // The contract's `fromChannel: Channel = PSTN`: null, sent explicitly, means the default too.
    return ctx.calls.create({ ...input, fromChannel: input.fromChannel ?? Channel.PSTN, toChannel: input.toChannel ?? Channel.PSTN });
  }
}
