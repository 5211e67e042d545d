import DataLoader from 'dataloader';
import type { Call, CallEvent } from '../../domain/call.js';
import type { CallService } from '../../domain/call-service.js';
import type { CallCommands } from '../../domain/call-commands.js';
import type { CallCommand, Recording } from '../../domain/command-rules.js';
import type { WebhookAttempt, WebhookEndpoints } from '../../domain/webhook-endpoints.js';

export interface Loaders {
  call: DataLoader<string, Call | null>;
  /** A call's commands, oldest first. */
  commands: DataLoader<string, CallCommand[]>;
  /** A call's recordings, oldest first. */
  recordings: DataLoader<string, Recording[]>;
  /** A webhook delivery's attempts, oldest first. */
  webhookAttempts: DataLoader<string, WebhookAttempt[]>;
  /** Events of a call for one (first, afterSequence) window; one statement per window per tick. */
  events(first: number, afterSequence: number): DataLoader<string, CallEvent[]>;
}

/** Built per operation, so nothing cached crosses tenants or requests. */
export function createLoaders(calls: CallService, commands: CallCommands, webhooks: WebhookEndpoints, options: { cache: boolean } = { cache: true }): Loaders {
  const eventLoaders = new Map<string, DataLoader<string, CallEvent[]>>();
  return {
    webhookAttempts: new DataLoader(async (ids) => {
      const byDelivery = await webhooks.attemptsOf(ids);
      return ids.map((id) => byDelivery.get(id) ?? []);
    }, options),
    commands: new DataLoader(async (callIds) => {
      const byCall = await commands.commandsOf(callIds);
      return callIds.map((id) => byCall.get(id) ?? []);
    }, options),
    recordings: new DataLoader(async (callIds) => {
      const byCall = await commands.recordingsOf(callIds);
      return callIds.map((id) => byCall.get(id) ?? []);
    }, options),
    call: new DataLoader(async (ids) => {
      const found = new Map((await calls.getMany(ids)).map((call) => [call.id, call]));
      return ids.map((id) => found.get(id) ?? null);
    }, options),
    events(first, afterSequence) {
      const key = `${first}:${afterSequence}`;
      let loader = eventLoaders.get(key);
      if (!loader) {
        loader = new DataLoader(async (callIds) => {
          const byCall = await calls.eventsOf(callIds, { first, afterSequence });
          return callIds.map((id) => byCall.get(id) ?? []);
        }, options);
        eventLoaders.set(key, loader);
      }
      return loader;
    },
  };
}
