import type { EntityManager } from '@mikro-orm/postgresql';
import type { Principal } from '../domain/authenticator.js';
import type { CallService } from '../domain/call-service.js';
import type { CallCommands } from '../domain/command-service.js';
import type { CallTokens } from '../domain/call-tokens.js';
import type { WebhookEndpoints } from '../domain/webhook-endpoints.js';
import { createLoaders, type Loaders } from './loaders/loaders.js';
import type { SocketOperation } from './shared-execution.js';

/**
 * Per operation: the authenticated tenant, its services and its DataLoaders.
 *
 * A class with lazy getters on its prototype: Apollo clones the context of every request with
 * Object.assign, which would call getters defined on the object itself, so every request would
 * fork an EntityManager and build loaders it never uses (≈55 µs per request, measured).
 */
export class GatewayContext {
  /** Created on first use; a fork of the ORM's entity manager for this operation only. */
  private forked: EntityManager | undefined = undefined;
  private built: Loaders | undefined = undefined;

  constructor(
    readonly principal: Principal,
    readonly calls: CallService,
    readonly commands: CallCommands,
    readonly tokens: CallTokens,
    readonly webhooks: WebhookEndpoints,
    private readonly rootEm: EntityManager,
    readonly requestId: string,
    /**
     * Set when the operation runs on a WebSocket. A subscription's context lives as long as the
     * subscription: nothing may be cached across its events, so its loaders only batch and each
     * use of `em` gets a fresh fork. It also lets live events be written to the socket directly.
     */
    readonly socketOperation?: SocketOperation,
    /** No caching across events (a subscription's, or a fan-out group's, context). */
    private readonly perEvent = socketOperation !== undefined,
  ) {}

  get loaders(): Loaders {
    this.built ??= createLoaders(this.calls, this.commands, this.webhooks, { cache: !this.perEvent });
    return this.built;
  }

  /**
   * The same tenant and services for executing live events on behalf of a fan-out group:
   * no socket (the group outlives any one member's) and nothing cached across events.
   */
  forLiveEvents(): GatewayContext {
    return new GatewayContext(this.principal, this.calls, this.commands, this.tokens, this.webhooks, this.rootEm, this.requestId, undefined, true);
  }

  get em(): EntityManager {
    if (this.perEvent) return this.rootEm.fork();
    this.forked ??= this.rootEm.fork();
    return this.forked;
  }
}

export function createContext(options: {
  principal: Principal;
  calls: CallService;
  commands: CallCommands;
  tokens: CallTokens;
  webhooks: WebhookEndpoints;
  rootEm: EntityManager;
  requestId: string;
  socketOperation?: SocketOperation;
}): GatewayContext {
  return new GatewayContext(options.principal, options.calls, options.commands, options.tokens, options.webhooks, options.rootEm, options.requestId, options.socketOperation);
}
