import { Field, ID, InputType } from 'type-graphql';
import { WebhookDeliveryStatus } from '../../domain/webhook-endpoints.js';
import { WebhookEventType } from '../types/webhook.types.js';

@InputType('CreateWebhookEndpointInput', { description: 'A new endpoint.' })
export class CreateWebhookEndpointInput {
  @Field(() => String, {
    description:
      'An http:// or https:// URL (https is the one to use outside development: the payload is signed, not encrypted). In both modes it must not resolve to a loopback, private or link-local address (URL_NOT_ALLOWED) unless the operator set WEBHOOK_ALLOW_PRIVATE_URLS.',
  })
  url!: string;

  @Field(() => [WebhookEventType], { nullable: true, description: 'Events to receive; omitted or empty: all.' })
  events?: string[] | null;
}

@InputType('UpdateWebhookEndpointInput', { description: 'Changes to an endpoint; omitted fields stay.' })
export class UpdateWebhookEndpointInput {
  @Field(() => ID, { description: 'The endpoint.' })
  id!: string;

  @Field(() => String, { nullable: true, description: 'A new URL, with the same rules as CreateWebhookEndpointInput.url.' })
  url?: string | null;

  @Field(() => [WebhookEventType], { nullable: true, description: 'New events; empty: all.' })
  events?: string[] | null;

  @Field(() => Boolean, { nullable: true, description: 'true re-enables a disabled endpoint; false disables it.' })
  enabled?: boolean | null;
}

@InputType('IdInput', { description: 'An object by id.' })
export class IdInput {
  @Field(() => ID, { description: 'The id.' })
  id!: string;
}

@InputType('WebhookDeliveryFilter', { description: 'Narrows webhookDeliveries; fields combine with AND.' })
export class WebhookDeliveryFilter {
  @Field(() => ID, { nullable: true, description: 'Deliveries to this endpoint.' })
  endpointId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Deliveries about this call.' })
  callId?: string | null;

  @Field(() => [WebhookDeliveryStatus], { nullable: true, description: 'Any of these statuses.' })
  status?: WebhookDeliveryStatus[] | null;
}
