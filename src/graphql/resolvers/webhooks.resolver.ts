import { Arg, Ctx, FieldResolver, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { deliveryCursor, type WebhookAttempt, type WebhookDelivery, type WebhookEndpoint } from '../../domain/webhook-endpoints.js';
import type { GatewayContext } from '../context.js';
import { ConnectionPage } from '../types/connection.js';
import { CreateWebhookEndpointInput, IdInput, UpdateWebhookEndpointInput, WebhookDeliveryFilter } from '../inputs/webhook.input.js';
import {
  DeleteWebhookEndpointPayload,
  StatusCallbackSecretPayload,
  WebhookAttemptObject,
  WebhookDeliveryConnectionObject,
  WebhookDeliveryObject,
  WebhookDeliveryPayload,
  WebhookEndpointObject,
  WebhookEndpointPayload,
} from '../types/webhook.types.js';

@Resolver()
export class WebhooksResolver {
  @Query(() => [WebhookEndpointObject], { description: "The webhook endpoints of the key's application, in the key's mode." })
  webhookEndpoints(@Ctx() ctx: GatewayContext): Promise<WebhookEndpoint[]> {
    return ctx.webhooks.list();
  }

  @Query(() => WebhookDeliveryConnectionObject, { description: "Deliveries of the key's application and mode, newest first, each with its attempts." })
  async webhookDeliveries(
    @Ctx() ctx: GatewayContext,
    @Arg('filter', () => WebhookDeliveryFilter, { nullable: true, description: 'Narrows the list.' }) filter?: WebhookDeliveryFilter | null,
    @Arg('first', () => Int, { nullable: true, description: 'Page size, 0 to 100 (default 20).' }) first?: number | null,
    @Arg('after', () => String, { nullable: true, description: 'Cursor of the last delivery of the previous page.' }) after?: string | null,
  ): Promise<ConnectionPage<WebhookDelivery>> {
    const page = await ctx.webhooks.deliveries(filter ?? null, first ?? null, after ?? null);
    return new ConnectionPage(page.deliveries, deliveryCursor, { hasNextPage: page.hasNextPage, hasPreviousPage: after != null });
  }

  @Mutation(() => WebhookEndpointPayload, { description: 'Adds an endpoint; the signing secret is returned once.' })
  createWebhookEndpoint(
    @Arg('input', () => CreateWebhookEndpointInput, { description: 'URL and events.' }) input: CreateWebhookEndpointInput,
    @Ctx() ctx: GatewayContext,
  ) {
    return ctx.webhooks.create(input);
  }

  @Mutation(() => WebhookEndpointPayload, { description: "Changes an endpoint's URL or events, or disables / re-enables it." })
  updateWebhookEndpoint(
    @Arg('input', () => UpdateWebhookEndpointInput, { description: 'The changes.' }) input: UpdateWebhookEndpointInput,
    @Ctx() ctx: GatewayContext,
  ) {
    return ctx.webhooks.update(input);
  }

  @Mutation(() => DeleteWebhookEndpointPayload, { description: 'Deletes an endpoint and its deliveries.' })
  async deleteWebhookEndpoint(@Arg('input', () => IdInput, { description: 'The endpoint.' }) input: IdInput, @Ctx() ctx: GatewayContext) {
    const result = await ctx.webhooks.delete(input.id);
    return { deletedEndpointId: result.deletedId, userErrors: result.userErrors };
  }

  @Mutation(() => WebhookEndpointPayload, { description: 'A new signing secret (returned once); the previous one keeps signing too for 24 h.' })
  rotateWebhookSecret(@Arg('input', () => IdInput, { description: 'The endpoint.' }) input: IdInput, @Ctx() ctx: GatewayContext) {
    return ctx.webhooks.rotate(input.id);
  }

  @Mutation(() => StatusCallbackSecretPayload, {
    description:
      "Creates (or replaces) the secret that signs the status callbacks of this application's calls (createCall's statusCallbackUrl), returned once; after a rotation the previous one keeps signing too for 24 h.",
  })
  rotateStatusCallbackSecret(@Ctx() ctx: GatewayContext) {
    return ctx.webhooks.rotateStatusCallbackSecret();
  }

  @Mutation(() => WebhookDeliveryPayload, { description: 'Sends a delivery again now, with the same webhook-id.' })
  redeliverWebhook(@Arg('input', () => IdInput, { description: 'The delivery.' }) input: IdInput, @Ctx() ctx: GatewayContext) {
    return ctx.webhooks.redeliver(input.id);
  }
}

@Resolver(() => WebhookEndpointObject)
export class WebhookEndpointFieldsResolver {
  @FieldResolver(() => Boolean, { description: 'false once disabled.' })
  enabled(@Root() endpoint: WebhookEndpoint): boolean {
    return endpoint.disabledAt === null;
  }
}

@Resolver(() => WebhookDeliveryObject)
export class WebhookDeliveryFieldsResolver {
  @FieldResolver(() => Int, { description: 'Attempts made so far.' })
  attemptCount(@Root() delivery: WebhookDelivery): number {
    return delivery.attempts;
  }

  @FieldResolver(() => [WebhookAttemptObject], { description: 'Every attempt, oldest first: time, status code, latency, error.' })
  attempts(@Root() delivery: WebhookDelivery, @Ctx() ctx: GatewayContext): Promise<WebhookAttempt[]> {
    return ctx.loaders.webhookAttempts.load(delivery.id);
  }
}
