import { Field, ID, InputType, Int } from 'type-graphql';

@InputType('CreateCallTokenInput', { description: "Who joins which call's LiveKit room, for how long." })
export class CreateCallTokenInput {
  @Field(() => ID, {
    description:
      'A call that has not ended and has a LiveKit room: every call unless both legs are PSTN, also those without a WebRTC leg (PSTN ↔ WhatsApp, WhatsApp ↔ WhatsApp), whose livekitRoomName is null; the payload names the room.',
  })
  callId!: string;

  @Field(() => String, {
    description:
      "The participant's identity in the room: 1–128 of A–Z a–z 0–9 _ - . : @ (for the called party of a WebRTC call, its toAddress). An access token takes only the identity it was minted with (CreateAccessTokenInput.participantIdentity), or without one any but the call's own parties (IDENTITY_NOT_ALLOWED).",
  })
  participantIdentity!: string;

  @Field(() => String, { nullable: true, description: 'Display name, 1–128 characters.' })
  participantName?: string | null;

  @Field(() => Int, { nullable: true, description: 'Lifetime of the token in seconds, 60 to 86400 (default 3600).' })
  ttl?: number | null;
}
