import { Field, ID, InputType, Int } from 'type-graphql';

@InputType('CreateCallTokenInput', { description: "Who joins which call's LiveKit room, for how long." })
export class CreateCallTokenInput {
  @Field(() => ID, { description: 'A call with a LiveKit room (any call unless both legs are PSTN) that has not ended.' })
  callId!: string;

  @Field(() => String, {
    description: "The participant's identity in the room: 1–128 of A–Z a–z 0–9 _ - . : @ (for the called party of a WebRTC call, its toAddress).",
  })
  participantIdentity!: string;

  @Field(() => String, { nullable: true, description: 'Display name, 1–128 characters.' })
  participantName?: string | null;

  @Field(() => Int, { nullable: true, description: 'Lifetime of the token in seconds, 60 to 86400 (default 3600).' })
  ttl?: number | null;
}
