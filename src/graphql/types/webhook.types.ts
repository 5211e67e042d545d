import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Connection } from './connection.js';
import { DateTimeScalar } from './scalars.js';
import { UserErrorObject } from './user-error.type.js';
import { WebhookDeliveryStatus } from '../../domain/webhook-endpoints.js';

/**
 * GraphQL names for the platform's event names (the values are what payloads carry). Exported for
 * the input types; its members are read by type-graphql, not by name.
 * @public
 */
export enum WebhookEventType {
  CALLS_INITIATED = 'calls.initiated',
  CALLS_RINGING = 'calls.ringing',
  CALLS_ANSWERED = 'calls.answered',
  CALLS_VOICEMAIL = 'calls.voicemail',
  CALLS_COMPLETED = 'calls.completed',
  CALLS_FAILED = 'calls.failed',
  CALLS_BUSY = 'calls.busy',
  CALLS_NO_ANSWER = 'calls.no_answer',
  CALLS_CANCELED = 'calls.canceled',
  CALLS_DTMF_RECEIVED = 'calls.dtmf_received',
}
registerEnumType(WebhookEventType, {
  name: 'WebhookEventType',
  description: "A webhook event; the payload's `event` is the value in lower case with dots, e.g. `calls.answered`.",
  valuesConfig: Object.fromEntries(
    Object.entries(WebhookEventType).map(([key, value]) => [
      key,
      {
        description:
          key === 'CALLS_DTMF_RECEIVED'
            ? `\`${value}\`: a party pressed keys; the payload adds \`data.dtmf.digits\`.`
            : key === 'CALLS_ANSWERED'
              ? `\`${value}\`: the call was answered (it reached IN_PROGRESS; the payload's status is \`in_progress\`).`
              : `\`${value}\`: the call reached ${key.slice(6)}.`,
      },
    ]),
  ),
});

registerEnumType(WebhookDeliveryStatus, {
  name: 'WebhookDeliveryStatus',
  description: 'Where a delivery is.',
  valuesConfig: {
    PENDING: { description: 'Waiting for its next attempt.' },
    DELIVERED: { description: 'An attempt got a 2xx answer.' },
    FAILED: { description: 'Given up: 410 Gone, or every attempt of the schedule failed.' },
  },
});

@ObjectType('WebhookEndpoint', {
  description: 'An http(s) endpoint of the application that receives signed call events (Standard Webhooks).',
  simpleResolvers: true,
})
export class WebhookEndpointObject {
  @Field(() => ID, { description: '`we_<KSUID>`.' })
  id!: string;

  @Field(() => String, { description: 'Where events are POSTed.' })
  url!: string;

  @Field(() => [WebhookEventType], { description: 'The events it receives; empty: all of them.' })
  events!: string[];

  @Field(() => String, { nullable: true, description: 'Why it was disabled.' })
  disabledReason!: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Since when every delivery has failed; null when the last one succeeded.' })
  failingSince!: Date | null;

  @Field(() => DateTimeScalar, { description: 'When it was created.' })
  createdAt!: Date;
}

@ObjectType('WebhookAttempt', { description: 'One HTTP attempt of a delivery.', simpleResolvers: true })
export class WebhookAttemptObject {
  @Field(() => DateTimeScalar, { description: 'When it was made.' })
  attemptedAt!: Date;

  @Field(() => Int, { nullable: true, description: 'The HTTP status answered; null when there was no answer (see error).' })
  statusCode!: number | null;

  @Field(() => Int, { description: 'Milliseconds until the answer (or the failure).' })
  latencyMs!: number;

  @Field(() => String, { nullable: true, description: 'Why no answer came (timeout, connection refused, blocked address …).' })
  error!: string | null;

  @Field(() => String, { nullable: true, description: "The first 4 KB of the answer's body; nothing past that is read." })
  responseBody!: string | null;
}

@ObjectType('WebhookDelivery', { description: 'One event sent (or to be sent) to one endpoint.', simpleResolvers: true })
export class WebhookDeliveryObject {
  @Field(() => ID, { description: 'The `webhook-id` header: the same on every attempt, for deduplication.' })
  id!: string;

  @Field(() => ID, { description: 'The endpoint it goes to.' })
  endpointId!: string;

  @Field(() => ID, { description: 'The call event it carries (CallEvent.id, also `eventId` in the payload).' })
  eventId!: string;

  @Field(() => ID, { description: 'The call.' })
  callId!: string;

  @Field(() => WebhookEventType, { description: 'The event.' })
  eventType!: string;

  @Field(() => WebhookDeliveryStatus, { description: 'PENDING, DELIVERED or FAILED.' })
  status!: string;

  @Field(() => DateTimeScalar, { description: 'When the next attempt is (or was) due.' })
  nextAttemptAt!: Date;

  @Field(() => DateTimeScalar, { description: 'When the event was queued for this endpoint.' })
  createdAt!: Date;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When an attempt succeeded.' })
  deliveredAt!: Date | null;
}

@ObjectType('WebhookDeliveryConnection', { description: 'A page of deliveries, newest first.', simpleResolvers: true })
export class WebhookDeliveryConnectionObject extends Connection('WebhookDelivery', WebhookDeliveryObject, 'A page of webhook deliveries.') {}

@ObjectType('WebhookEndpointPayload', { description: 'Result of an endpoint mutation.', simpleResolvers: true })
export class WebhookEndpointPayload {
  @Field(() => WebhookEndpointObject, { nullable: true, description: 'The endpoint; null when userErrors refused the change.' })
  endpoint!: WebhookEndpointObject | null;

  @Field(() => String, {
    nullable: true,
    description: 'The signing secret (`whsec_…`): shown only by createWebhookEndpoint and rotateWebhookSecret, never again.',
  })
  secret!: string | null;

  @Field(() => [UserErrorObject], { description: 'Why nothing changed; empty on success.' })
  userErrors!: UserErrorObject[];
}

@ObjectType('StatusCallbackSecretPayload', { description: 'The status-callback secret, shown this once.', simpleResolvers: true })
export class StatusCallbackSecretPayload {
  @Field(() => String, {
    nullable: true,
    description: "Standard Webhooks secret (whsec_…) signing every call's statusCallbackUrl deliveries of this application and mode; shown only here.",
  })
  secret!: string | null;

  @Field(() => [UserErrorObject], { description: 'Why it was refused; empty on success.' })
  userErrors!: UserErrorObject[];
}

@ObjectType('DeleteWebhookEndpointPayload', { description: 'Result of deleteWebhookEndpoint.', simpleResolvers: true })
export class DeleteWebhookEndpointPayload {
  @Field(() => ID, { nullable: true, description: 'The deleted endpoint (its deliveries go with it).' })
  deletedEndpointId!: string | null;

  @Field(() => [UserErrorObject], { description: 'Why nothing changed; empty on success.' })
  userErrors!: UserErrorObject[];
}

@ObjectType('WebhookDeliveryPayload', { description: 'Result of redeliverWebhook.', simpleResolvers: true })
export class WebhookDeliveryPayload {
  @Field(() => WebhookDeliveryObject, { nullable: true, description: 'The delivery, PENDING again.' })
  delivery!: WebhookDeliveryObject | null;

  @Field(() => [UserErrorObject], { description: 'Why nothing changed; empty on success.' })
  userErrors!: UserErrorObject[];
}
