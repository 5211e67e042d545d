import { Field, InputType, Int } from 'type-graphql';
import { AccessScope } from '../../domain/access-tokens.js';
import { CallFilterInput } from './call-filter.input.js';

@InputType('CreateAccessTokenInput', { description: 'What a browser may do with the token, over which calls, for how long.' })
export class CreateAccessTokenInput {
  @Field(() => [AccessScope], { description: 'At least one scope.' })
  scopes!: AccessScope[];

  @Field(() => CallFilterInput, {
    nullable: true,
    description:
      'ANDed into everything the token reads, subscribes to or creates, e.g. {metadata: {customerId: "c1"}}: a call outside it is not found, as another application\'s. At most 2 KB as JSON.',
  })
  filter?: CallFilterInput | null;

  @Field(() => Int, { nullable: true, description: 'Lifetime in seconds, 60 to 86400 (default 3600).' })
  ttlSeconds?: number | null;

  @Field(() => String, {
    nullable: true,
    description:
      "The one identity the holder may join a call's room as with createCallToken (a WebRTC identity, e.g. the agent's desk). Omitted: any identity except the call's own parties (its WebRTC from/to/transferredTo identities and the sip:/sip_/whatsapp: legs the gateway dials), so a browser cannot answer a call as its callee.",
  })
  participantIdentity?: string | null;
}
