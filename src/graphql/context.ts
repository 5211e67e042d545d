import type { EntityManager } from '@mikro-orm/postgresql';
import type { Principal } from '../domain/authenticator.js';
import type { CallService } from '../domain/call-service.js';
import { createLoaders, type Loaders } from './loaders/loaders.js';
import type { SocketOperation } from './shared-execution.js';

/** Per operation: the authenticated tenant, its services and its DataLoaders. */
export interface GatewayContext {
  readonly principal: Principal;
  readonly calls: CallService;
  readonly loaders: Loaders;
  /** A fork of the ORM's entity manager for this operation only (created on first use). */
  readonly em: EntityManager;
  readonly requestId: string;
  /** Set when the operation runs on a WebSocket: lets live events be written to it directly. */
  readonly socketOperation?: SocketOperation;
}

export function createContext(options: {
  principal: Principal;
  calls: CallService;
  rootEm: EntityManager;
  requestId: string;
  /**
   * An operation on a WebSocket. A subscription's context lives as long as the subscription:
   * nothing may be cached across its events, so loaders only batch and each use of `em` gets a
   * fresh fork.
   */
  socketOperation?: SocketOperation;
}): GatewayContext {
  let em: EntityManager | undefined;
  let loaders: Loaders | undefined;
  const perEvent = options.socketOperation !== undefined;
  return {
    principal: options.principal,
    calls: options.calls,
    // Created on first use: an idle subscription (most of them) never needs any.
    get loaders() {
      loaders ??= createLoaders(options.calls, { cache: !perEvent });
      return loaders;
    },
    requestId: options.requestId,
    socketOperation: options.socketOperation,
    get em() {
      if (perEvent) return options.rootEm.fork();
      em ??= options.rootEm.fork();
      return em;
    },
  };
}
