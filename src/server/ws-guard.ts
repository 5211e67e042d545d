import { PeriodicRunner } from '../shared/runners.js';
import type { WebSocket } from 'ws';
import type { Authenticator, Principal } from '../domain/authenticator.js';
import type { Logger } from '../domain/logger.js';
import type { GraphQLError } from 'graphql';
import { CODE, gatewayError } from '../graphql/error-codes.js';

export interface WsLimits {
  /** Operations (subscriptions and in-flight queries) at once on one socket. */
  perSocket: number;
  /** … and on all sockets of one API key, in this process. */
  perKey: number;
  /** A socket whose unsent bytes pass this is a slow consumer: it is cut off. */
  slowConsumerBytes: number;
  /** How often open sockets' keys are checked again (a revoked key's subscriptions end). */
  recheckMs: number;
  /** Open sockets of one API key, in this process. */
  connectionsPerKey: number;
  /**
   * An access token's sockets and operations are its own, not its minting key's: one browser user
   * may not use up what the backend and every other user of that key share. Per token, in this process.
   */
  connectionsPerToken: number;
  perToken: number;
  /** Open sockets from one client address (authenticated or not), in this process. */
  connectionsPerAddress: number;
}

/** Close code for a connection over its key's or its address's cap (graphql-ws's codes stop at 4499). */
export const TOO_MANY_CONNECTIONS = 4429;

interface Tracked {
  socket: WebSocket;
  authorization: string;
  principal: Principal;
  /**
   * Its operations' ids: an array of exactly their number, replaced on each change (at most
   * WS_MAX_OPERATIONS_PER_SOCKET): a Set's table, or an array grown by push, is ≈0.2 KB per idle socket.
   */
  operations: readonly string[];
}

/**
 * What the protocol leaves to the server (server/ws.ts calls it): caps on concurrent operations
 * per socket and per key, the key checked again on every subscribe and periodically (a revoked
 * key's sockets are closed with 4403), and slow consumers cut off before their buffers grow
 * server memory.
 */
export class SocketGuard {
  private readonly sockets = new Map<WebSocket, Tracked>();
  private readonly perKey = new Map<string, number>();
  private readonly socketsPerKey = new Map<string, number>();
  private readonly socketsPerAddress = new Map<string, number>();
  private readonly rechecks: PeriodicRunner;

  constructor(
    private readonly authenticator: Authenticator,
    /** The pipeline's rate limit (server/pipeline.ts): null when the key may run one more operation. */
    private readonly admitKey: (principal: Principal) => Promise<GraphQLError | null>,
    private readonly limits: WsLimits,
    private readonly logger: Logger,
  ) {
    this.rechecks = new PeriodicRunner(() => this.recheck(), limits.recheckMs).start();
  }

  /** A socket was opened (before connection_init): false when its address has too many already. */
  opened(address: string): boolean {
    const count = this.socketsPerAddress.get(address) ?? 0;
    if (count >= this.limits.connectionsPerAddress) return false;
    this.socketsPerAddress.set(address, count + 1);
    return true;
  }

  /** A socket counted by `opened` closed. */
  left(address: string): void {
    decrement(this.socketsPerAddress, address, 1);
  }

  /** false: the key (or the access token) has too many sockets open already (the caller closes this one). */
  connected(socket: WebSocket, authorization: string, principal: Principal): boolean {
    const { key, sockets } = this.capsOf(principal);
    const count = this.socketsPerKey.get(key) ?? 0;
    if (count >= sockets) return false;
    this.socketsPerKey.set(key, count + 1);
    this.sockets.set(socket, { socket, authorization, principal, operations: [] });
    return true;
  }

  /** null: admitted; else why not. */
  async admit(socket: WebSocket, id: string): Promise<GraphQLError | null> {
    const tracked = this.sockets.get(socket);
    if (!tracked) return gatewayError(CODE.UNAUTHENTICATED, 'The connection is not authenticated');
    const principal = await this.authenticator.authenticate(tracked.authorization);
    if (!principal) {
      socket.close(4403, 'Forbidden');
      return gatewayError(CODE.UNAUTHENTICATED, 'The API key is no longer valid');
    }
    const refused = await this.admitKey(principal);
    if (refused) return refused;
    // Closed while the key was checked: nothing may be counted for a socket no longer tracked.
    if (this.sockets.get(socket) !== tracked) return gatewayError(CODE.UNAUTHENTICATED, 'The connection is closed');
    if (tracked.operations.length >= this.limits.perSocket) {
      return gatewayError(CODE.RATE_LIMITED, 'Too many operations on this connection: complete one first, or open another connection');
    }
    const { key, operations, holder } = this.capsOf(tracked.principal);
    if ((this.perKey.get(key) ?? 0) >= operations) {
      return gatewayError(CODE.RATE_LIMITED, `Too many operations for this ${holder}: complete some first`);
    }
    tracked.operations = tracked.operations.concat(id);
    this.perKey.set(key, (this.perKey.get(key) ?? 0) + 1);
    return null;
  }

  released(socket: WebSocket, id: string): void {
    const tracked = this.sockets.get(socket);
    if (!tracked?.operations.includes(id)) return;
    tracked.operations = tracked.operations.filter((other) => other !== id);
    this.decrement(this.capsOf(tracked.principal).key, 1);
  }

  closed(socket: WebSocket): void {
    const tracked = this.sockets.get(socket);
    if (!tracked) return;
    this.sockets.delete(socket);
    const { key } = this.capsOf(tracked.principal);
    this.decrement(key, tracked.operations.length);
    decrement(this.socketsPerKey, key, 1);
  }

  /** Whose caps a socket counts against: its access token's when it has one, else its API key's. */
  private capsOf(principal: Principal): { key: string; sockets: number; operations: number; holder: string } {
    return principal.token
      ? { key: `token:${principal.token.id}`, sockets: this.limits.connectionsPerToken, operations: this.limits.perToken, holder: 'access token' }
      : { key: principal.keyId, sockets: this.limits.connectionsPerKey, operations: this.limits.perKey, holder: 'API key' };
  }

  /** Sends unless the socket is too far behind; a slow consumer is cut off. */
  send(socket: WebSocket, data: string): void {
    if (socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount > this.limits.slowConsumerBytes) {
      this.logger.warn('slow WebSocket consumer cut off', { bufferedBytes: socket.bufferedAmount });
      // terminate, not close: a close frame would queue behind the megabytes it cannot read.
      socket.terminate();
      return;
    }
    socket.send(data);
  }

  get operations(): number {
    let total = 0;
    for (const count of this.perKey.values()) total += count;
    return total;
  }

  private decrement(key: string, by: number): void {
    decrement(this.perKey, key, by);
  }

  private async recheck(): Promise<void> {
    for (const tracked of this.sockets.values()) {
      try {
        if (!(await this.authenticator.authenticate(tracked.authorization))) tracked.socket.close(4403, 'Forbidden');
      } catch {
        // The database is unreachable: keep the socket, check again next time.
      }
    }
  }

  stop(): Promise<void> {
    return this.rechecks.stop();
  }
}

function decrement(counts: Map<string, number>, key: string, by: number): void {
  const left = (counts.get(key) ?? 0) - by;
  if (left > 0) counts.set(key, left);
  else counts.delete(key);
}
