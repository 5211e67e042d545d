import type { Principal } from '../domain/authenticator.js';
import type { AccessTokens } from '../domain/access-tokens.js';
import type { CallService } from '../domain/call-service.js';
import type { CallCommands } from '../domain/call-commands.js';
import type { CallTokens } from '../domain/call-tokens.js';
import type { PhoneNumbers } from '../domain/phone-numbers.js';
import type { WebhookEndpoints } from '../domain/webhook-endpoints.js';
import { createLoaders, type Loaders } from './loaders/loaders.js';
import type { SocketOperation } from './shared-execution.js';

/**
 * Per operation: the authenticated tenant, its services and its DataLoaders.
 *
 * A class with lazy getters on its prototype: Apollo clones the context of every request with
 * Object.assign, which would call getters defined on the object itself, so every request would
 * build loaders it never uses (≈55 µs per request with an EntityManager fork, measured). No
 * entity manager here: requests read and write through the domain's stores (db/pg-*.ts).
 */
/** What an operation's context is made of: the caller, the domain's services bound to it, and where it runs. */
export interface ContextParts {
  readonly principal: Principal;
  readonly calls: CallService;
  readonly commands: CallCommands;
  readonly tokens: CallTokens;
  readonly webhooks: WebhookEndpoints;
  readonly numbers: PhoneNumbers;
  /** Signs access tokens (createAccessToken). */
  readonly accessTokens: AccessTokens;
  readonly requestId: string;
  /** The gateway's public base URL (PUBLIC_URL, else its own address): links the API gives out start with it. */
  readonly baseUrl: string;
  /**
   * Set when the operation runs on a WebSocket. A subscription's context lives as long as the
   * subscription: nothing may be cached across its events, so its loaders only batch. It also
   * lets live events be written to the socket directly.
   */
  readonly socketOperation?: SocketOperation;
}

/** One operation's context: its parts as its own fields (assigned one by one: no copy of the parts object is kept). */
export class GatewayContext implements ContextParts {
  readonly principal: Principal;
  readonly calls: CallService;
  readonly commands: CallCommands;
  readonly tokens: CallTokens;
  readonly webhooks: WebhookEndpoints;
  readonly numbers: PhoneNumbers;
  readonly accessTokens: AccessTokens;
  readonly requestId: string;
  readonly baseUrl: string;
  readonly socketOperation: SocketOperation | undefined;
  private built: Loaders | undefined = undefined;
  /** No caching across events (a subscription's, or a fan-out group's, context). */
  private readonly perEvent: boolean;

  constructor(parts: ContextParts, perEvent = parts.socketOperation !== undefined) {
    this.principal = parts.principal;
    this.calls = parts.calls;
    this.commands = parts.commands;
    this.tokens = parts.tokens;
    this.webhooks = parts.webhooks;
    this.numbers = parts.numbers;
    this.accessTokens = parts.accessTokens;
    this.requestId = parts.requestId;
    this.baseUrl = parts.baseUrl;
    this.socketOperation = parts.socketOperation;
    this.perEvent = perEvent;
  }

  get loaders(): Loaders {
    this.built ??= createLoaders(this.calls, this.commands, this.webhooks, { cache: !this.perEvent });
    return this.built;
  }

  /**
   * The same tenant and services for executing live events on behalf of a fan-out group:
   * no socket (the group outlives any one member's) and nothing cached across events.
   */
  forLiveEvents(): GatewayContext {
    return new GatewayContext({ ...this, socketOperation: undefined }, true);
  }
}

export function createContext(parts: ContextParts): GatewayContext {
  return new GatewayContext(parts);
}
