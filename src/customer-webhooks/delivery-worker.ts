import type { Span } from '@opentelemetry/api';
import { SpanKind, contextOfTraceParent, inSpan, traceHeadersOf, tracing } from '../shared/tracing.js';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { Logger } from '../domain/logger.js';
import { CoalescingRunner, PeriodicRunner } from '../shared/runners.js';
import { isBlockedAddress, safeLookup, type PublicResolver } from './url-guard.js';
import type { AttemptOutcome, ClaimedDelivery, PgWebhookQueue } from '../db/pg-webhook-queue.js';

export interface DeliveryOptions {
  /** Delay before attempt 1, 2, 3 …; its length is the number of attempts (WEBHOOK_RETRY_SCHEDULE_MS). */
  retryScheduleMs: readonly number[];
  /** Per attempt, in all: connecting, sending, the answer and its body (15 s). */
  timeoutMs: number;
  /** Endpoints may be on private addresses (WEBHOOK_ALLOW_PRIVATE_URLS; tests, local development). */
  allowPrivate: boolean;
  /** How public names are resolved (off libuv's thread pool, with a deadline). */
  resolver: PublicResolver;
  /** How often to look for due deliveries, besides being kicked. */
  pollMs: number;
  /** Deliveries in flight per process. */
  concurrency: number;
  /** Deliveries in flight per endpoint, across every process: one slow endpoint holds no more workers. */
  perEndpoint: number;
  /** … and per application: a tenant with many slow endpoints holds no more either. */
  perApplication: number;
}

const DISABLE_AFTER_MS = 5 * 24 * 60 * 60 * 1000;
const RESPONSE_LIMIT = 4_096;

/**
 * Claims due deliveries and sends them, signed per Standard Webhooks with the `standardwebhooks`
 * package: `webhook-id` is the delivery's id on every attempt, `webhook-timestamp` the attempt's
 * time, `webhook-signature` one `v1,…` per valid secret (two for 24 h after a rotation).
 */
export class DeliveryWorker {
  private readonly inFlight = new Set<Promise<void>>();
  /** Ends every attempt in flight at once (stop). */
  private readonly shutdown = new AbortController();
  private readonly runner: PeriodicRunner;
  private stopped = false;

  constructor(
    private readonly queue: PgWebhookQueue,
    private readonly logger: Logger,
    private readonly options: DeliveryOptions,
  ) {
    this.runner = new PeriodicRunner(() => this.run(), options.pollMs);
  }

  start(): void {
    this.runner.start();
    this.kick();
  }

  kick(): void {
    if (!this.stopped) this.runner.request();
  }

  private async run(): Promise<void> {
    try {
      for (;;) {
        const free = this.options.concurrency - this.inFlight.size;
        if (free <= 0) return;
        // The lease outlives the attempt's whole deadline, so no other worker posts it meanwhile.
        const claimed = await this.queue.claim(free, this.options.timeoutMs * 2 + 5_000, {
          perEndpoint: this.options.perEndpoint,
          perApplication: this.options.perApplication,
        });
        for (const delivery of claimed) {
          const work: Promise<void> = this.attempt(delivery).finally(() => {
            this.inFlight.delete(work);
            this.kick();
          });
          this.inFlight.add(work);
        }
        if (claimed.length < free) return;
      }
    } catch (error) {
      if (!this.stopped) this.logger.error('webhook claim failed; the poll will retry', { error: (error as Error).message });
    }
  }

  private async attempt(delivery: ClaimedDelivery): Promise<void> {
    // Claimed while stop() ran (the claim was already on its way): give it back untried.
    if (this.shutdown.signal.aborted) {
      await this.queue.release(delivery).catch(() => {});
      return;
    }
    if (delivery.secretError) {
      this.logger.error('webhook not sent: its signing secret cannot be opened here', { deliveryId: delivery.id, error: delivery.secretError });
      return;
    }
    if (!tracing.on) return this.deliver(delivery);
    // A span of the call's own trace; the endpoint receives it as traceparent and may continue it.
    return inSpan(
      'webhook delivery',
      {
        kind: SpanKind.CLIENT,
        parent: contextOfTraceParent(delivery.traceParent),
        attributes: { 'calls.delivery_id': delivery.id, 'calls.endpoint_id': delivery.endpointId, 'calls.attempt': delivery.attempts },
      },
      (span) => this.deliver(delivery, span),
    );
  }

  private async deliver(delivery: ClaimedDelivery, span?: Span): Promise<void> {
    const body = JSON.stringify(delivery.payload);
    const now = new Date();
    const signatures = [delivery.secret, delivery.previousSecret]
      .filter((secret): secret is string => !!secret)
      .map((secret) => new Webhook(secret).sign(delivery.id, now, body));
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'calls-gateway-webhooks/1',
      'webhook-id': delivery.id,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': signatures.join(' '),
      ...(span ? traceHeadersOf(span) : {}),
    };
    const outcome = await this.post(delivery, headers, body);
    if (span && outcome.statusCode !== null) span.setAttribute('http.response.status_code', outcome.statusCode);
    if (this.shutdown.signal.aborted) {
      // Stopping: give the lease back untried rather than record an attempt the endpoint may not have seen.
      await this.queue.release(delivery).catch(() => {});
      return;
    }
    const ok = outcome.statusCode !== null && outcome.statusCode >= 200 && outcome.statusCode < 300;
    const schedule = this.options.retryScheduleMs;
    const last = delivery.attempts >= schedule.length;
    const result = ok ? 'delivered' : outcome.statusCode === 410 || last ? 'failed' : 'retry';
    const base = schedule[Math.min(delivery.attempts, schedule.length - 1)] ?? 0;
    // ±10% jitter, so endpoints recovering from an outage are not hit by every retry at once.
    const retryInMs = Math.round(base * (0.9 + Math.random() * 0.2));
    try {
      if (!(await this.queue.record(delivery, outcome, result, retryInMs, DISABLE_AFTER_MS))) {
        this.logger.warn('webhook attempt not recorded: its lease had run out', { deliveryId: delivery.id });
      }
    } catch (error) {
      // The lease runs out and the delivery is tried again: at least once, never lost.
      this.logger.error('webhook attempt not recorded', { deliveryId: delivery.id, error: (error as Error).message });
    }
  }

  private post(delivery: ClaimedDelivery, headers: Record<string, string>, body: string): Promise<AttemptOutcome> {
    const started = Date.now();
    const allowPrivate = this.options.allowPrivate;
    const done = (statusCode: number | null, error: string | null, responseBody: string | null): AttemptOutcome => ({
      statusCode,
      latencyMs: Date.now() - started,
      error,
      responseBody,
    });
    let url: URL;
    try {
      url = new URL(delivery.url);
    } catch {
      return Promise.resolve(done(null, 'invalid URL', null));
    }
    const host = url.hostname.replace(/^\[|\]$/g, '');
    // An IP literal is connected to without a lookup: check it here.
    if (!allowPrivate && isIP(host) && isBlockedAddress(host)) return Promise.resolve(done(null, `${host} is a blocked address`, null));
    return new Promise((resolve) => {
      let settled = false;
      const finish = (outcome: AttemptOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        this.shutdown.signal.removeEventListener('abort', abort);
        request.destroy();
        resolve(outcome);
      };
      const client = url.protocol === 'https:' ? https : http;
      const request = client.request(url, { method: 'POST', headers, lookup: safeLookup(allowPrivate, this.options.resolver) }, (response) => {
        let received = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          received += chunk.slice(0, RESPONSE_LIMIT - received.length);
          // Enough of the body: what an endpoint sends past it is never read.
          if (received.length >= RESPONSE_LIMIT) finish(done(response.statusCode ?? null, null, received));
        });
        response.on('end', () => finish(done(response.statusCode ?? null, null, received)));
        response.on('error', (error) => finish(done(response.statusCode ?? null, error.message, received)));
      });
      // One deadline for the whole attempt: an endpoint that trickles a byte now and then never
      // resets it (an idle timeout would wait for ever).
      const deadline = setTimeout(() => finish(done(null, `no complete response within ${this.options.timeoutMs} ms`, null)), this.options.timeoutMs);
      const abort = () => finish(done(null, 'the gateway is stopping', null));
      this.shutdown.signal.addEventListener('abort', abort);
      // An abort before the listener was added fires no event.
      if (this.shutdown.signal.aborted) abort();
      request.on('error', (error) => finish(done(null, error.message, null)));
      request.end(body);
    });
  }

  /** Stops claiming, ends the attempts in flight at once and gives their leases back. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.shutdown.abort();
    await this.runner.stop();
    await Promise.all(this.inFlight);
  }
}

/** Fans the event log out to deliveries whenever its head moves (and on a poll). */
export class WebhookDispatcher {
  private readonly runner = new CoalescingRunner(() => this.run());
  private stopped = false;

  constructor(
    private readonly queue: PgWebhookQueue,
    private readonly worker: DeliveryWorker,
    private readonly logger: Logger,
  ) {}

  kick(): void {
    if (!this.stopped) this.runner.request();
  }

  /**
   * Whether an endpoint exists, read at most once a second. Without one, the cursor is left where
   * it is (no locking update on every write); an endpoint created later only receives events from
   * its creation on, so catching up then sends nothing old.
   */
  private endpoints = { any: false, checkedAt: 0 };

  /** An endpoint was just created here: fan out without waiting for the next check. */
  endpointsChanged(): void {
    this.endpoints.checkedAt = 0;
    this.kick();
  }

  private async run(): Promise<void> {
    try {
      if (Date.now() - this.endpoints.checkedAt >= 1_000) this.endpoints = { any: await this.queue.anyEndpoint(), checkedAt: Date.now() };
      if (!this.endpoints.any) return;
      for (;;) {
        const { events, deliveries } = await this.queue.fanOut(1_000);
        if (deliveries > 0) this.worker.kick();
        if (events < 1_000) return;
      }
    } catch (error) {
      if (!this.stopped) this.logger.error('webhook fan-out failed; the poll will retry', { error: (error as Error).message });
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.runner.settle();
  }
}
