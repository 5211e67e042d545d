import type http from 'node:http';
import { LRUCache } from 'lru-cache';
import { plausibleOrigin, type OriginStore } from '../domain/origins.js';
import { PerMinuteCounter } from '../shared/per-minute-counter.js';

/** Answered to an allowed preflight: what the gateway's browser clients send. */
const ALLOW_METHODS = 'GET, POST, OPTIONS';
const ALLOW_HEADERS = 'authorization, content-type, x-request-id';
/** How long a browser may reuse a preflight's answer (seconds; Chromium caps it at 2 h). */
const MAX_AGE = '600';
/** Response headers a browser page may read besides the safelisted ones. */
const EXPOSE_HEADERS = 'retry-after, www-authenticate, x-request-id';

/**
 * CORS per application (issue 16). A preflight carries no credentials, so it is answered for an
 * origin that some application allows; the request that follows is then checked against the
 * application of its key or token (OperationPipeline.contextForRequest refuses it, 403, before
 * anything runs). A request from the gateway's own origin (the dashboard) is not cross-origin.
 *
 * Bounded: answers are remembered per origin and per application in two LRUs with the key
 * cache's TTL, so a flood of made-up origins costs at most one indexed lookup each and cannot
 * push the real ones out of the other cache; an implausible Origin header costs no lookup. An
 * address whose lookups found no application `missesPerMinute` times (AUTH_FAILURES_PER_MINUTE,
 * as for refused credentials) gets no further lookup that minute: an origin not remembered is
 * then answered as not allowed, so one client cannot turn made-up origins into a stream of
 * queries. Remembered answers, the allowed origins' among them, still hold for it.
 */
export class CorsPolicy {
  private readonly anyApp: LRUCache<string, { allowed: boolean }>;
  private readonly perApp: LRUCache<string, { origins: ReadonlySet<string> }>;
  /** Lookups that found no application, per client address (0: no cap). */
  private readonly misses: PerMinuteCounter;

  constructor(
    private readonly store: OriginStore,
    options: { ttlMs: number; maxEntries: number; publicUrl?: string | undefined; missesPerMinute?: number },
    private readonly ownOrigin = options.publicUrl ? new URL(options.publicUrl).origin : null,
  ) {
    const ttl = Math.max(1, options.ttlMs);
    this.anyApp = new LRUCache({ max: options.maxEntries, ttl });
    this.perApp = new LRUCache({ max: options.maxEntries, ttl });
    this.misses = new PerMinuteCounter(options.missesPerMinute ?? 0, options.maxEntries);
  }

  /** The request's Origin when it is another origin than the gateway's own; undefined for same-origin and non-browser requests. */
  foreignOrigin(req: Pick<http.IncomingMessage, 'headers'>): string | undefined {
    const origin = req.headers.origin;
    // 'null' (a sandboxed frame, a file: page) is foreign, and no application can allow it.
    if (typeof origin !== 'string' || origin === '') return undefined;
    const host = req.headers.host;
    if (host && (origin === `http://${host}` || origin === `https://${host}`)) return undefined;
    if (origin === this.ownOrigin) return undefined;
    return origin;
  }

  /**
   * Whether any application allows the origin (what a preflight and a WebSocket upgrade are
   * answered by), asked by the client at `address`.
   */
  async anyAllows(origin: string, address: string | undefined): Promise<boolean> {
    if (!plausibleOrigin(origin)) return false;
    const cached = this.anyApp.get(origin);
    if (cached) return cached.allowed;
    const client = address ?? 'unknown';
    if (this.misses.over(client) !== null) return false;
    const allowed = await this.store.anyAllows(origin);
    this.anyApp.set(origin, { allowed });
    if (!allowed) this.misses.add(client);
    return allowed;
  }

  /** Whether this application allows the origin. */
  async appAllows(appId: string, origin: string): Promise<boolean> {
    let cached = this.perApp.get(appId);
    if (!cached) {
      cached = { origins: new Set(await this.store.originsOf(appId)) };
      this.perApp.set(appId, cached);
    }
    return cached.origins.has(origin);
  }

  /** OPTIONS: the allow-headers for an allowed origin, none for any other (the browser then refuses). */
  async preflight(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const origin = this.foreignOrigin(req);
    const headers: Record<string, string> = { vary: 'Origin', 'content-length': '0' };
    if (origin && (await this.anyAllows(origin, req.socket.remoteAddress))) {
      Object.assign(headers, {
        'access-control-allow-origin': origin,
        'access-control-allow-methods': ALLOW_METHODS,
        'access-control-allow-headers': ALLOW_HEADERS,
        'access-control-max-age': MAX_AGE,
      });
    }
    res.writeHead(204, headers);
    res.end();
  }

  /** Headers for the response to a cross-origin request from an origin some application allows (set before the answer is written). */
  async applyTo(origin: string | undefined, address: string | undefined, res: Pick<http.ServerResponse, 'setHeader'>): Promise<void> {
    if (!origin) return;
    res.setHeader('vary', 'Origin');
    if (!(await this.anyAllows(origin, address))) return;
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('access-control-expose-headers', EXPOSE_HEADERS);
  }

  /** After `apps origins --set` in this process. */
  invalidate(): void {
    this.anyApp.clear();
    this.perApp.clear();
  }
}
