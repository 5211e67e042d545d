import type { EntityManager } from '@mikro-orm/postgresql';
import type { Principal } from '../domain/authenticator.js';
import type { CallService } from '../domain/call-service.js';
import { createLoaders, type Loaders } from './loaders/loaders.js';

/** Per operation: the authenticated tenant, its services and its DataLoaders. */
export interface GatewayContext {
  readonly principal: Principal;
  readonly calls: CallService;
  readonly loaders: Loaders;
  /** A fork of the ORM's entity manager for this operation only (created on first use). */
  readonly em: EntityManager;
  readonly requestId: string;
}

export function createContext(options: {
  principal: Principal;
  calls: CallService;
  rootEm: EntityManager;
  requestId: string;
}): GatewayContext {
  let em: EntityManager | undefined;
  return {
    principal: options.principal,
    calls: options.calls,
    loaders: createLoaders(options.calls),
    requestId: options.requestId,
    get em() {
      em ??= options.rootEm.fork();
      return em;
    },
  };
}
