import { randomBytes } from 'node:crypto';
import { CallStatus, type Tenant } from './call.js';
import { decodeDeliveryCursor, encodeDeliveryCursor } from './cursor.js';
import { InvalidArgumentError, UserErrorCode, userError, type UserError } from './errors.js';
import { ksuid } from './ids.js';

/** The platform's webhook events, one per status a call reaches. */
export const WEBHOOK_EVENT_OF: Readonly<Record<CallStatus, string>> = {
  [CallStatus.INITIATED]: 'calls.initiated',
  [CallStatus.RINGING]: 'calls.ringing',
  [CallStatus.IN_PROGRESS]: 'calls.answered',
  [CallStatus.VOICEMAIL]: 'calls.voicemail',
  [CallStatus.COMPLETED]: 'calls.completed',
  [CallStatus.FAILED]: 'calls.failed',
  [CallStatus.BUSY]: 'calls.busy',
  [CallStatus.NO_ANSWER]: 'calls.no_answer',
  [CallStatus.CANCELED]: 'calls.canceled',
};
/** Keys a party pressed (CallEventKind.DTMF_RECEIVED); its payload adds `data.dtmf.digits`. */
export const DTMF_WEBHOOK_EVENT = 'calls.dtmf_received';
const WEBHOOK_EVENTS: readonly string[] = [...Object.values(WEBHOOK_EVENT_OF), DTMF_WEBHOOK_EVENT];

/** Where a delivery is: PENDING until an attempt gets a 2xx (DELIVERED) or the schedule gives up (FAILED). */
export enum WebhookDeliveryStatus {
  PENDING = 'pending',
  DELIVERED = 'delivered',
  FAILED = 'failed',
}

/** Deliveries that are done: retention may remove them. */
export const SETTLED_DELIVERY_STATUSES: readonly WebhookDeliveryStatus[] = [WebhookDeliveryStatus.DELIVERED, WebhookDeliveryStatus.FAILED];

export interface WebhookEndpoint {
  id: string;
  url: string;
  /** Empty: every event. */
  events: string[];
  disabledAt: Date | null;
  disabledReason: string | null;
  failingSince: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface WebhookAttempt {
  attemptedAt: Date;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
  /** The first 4 KB of the answer's body (nothing past that is read). */
  responseBody: string | null;
}

export interface WebhookDelivery {
  /** Also the `webhook-id` header: the same on every attempt, for receivers to deduplicate. */
  id: string;
  endpointId: string;
  eventId: string;
  callId: string;
  eventType: string;
  status: WebhookDeliveryStatus;
  attempts: number;
  nextAttemptAt: Date;
  createdAt: Date;
  deliveredAt: Date | null;
  payload: Record<string, unknown>;
}

export interface WebhookStore {
  /** null: the tenant already has `max` endpoints (checked atomically with the insert). */
  insertEndpoint(tenant: Tenant, endpoint: { id: string; url: string; events: string[]; secret: string }, max: number): Promise<WebhookEndpoint | null>;
  updateEndpoint(tenant: Tenant, id: string, change: { url?: string; events?: string[]; enable?: boolean }): Promise<WebhookEndpoint | null>;
  deleteEndpoint(tenant: Tenant, id: string): Promise<boolean>;
  rotateSecret(tenant: Tenant, id: string, secret: string, previousValidMs: number): Promise<WebhookEndpoint | null>;
  endpoints(tenant: Tenant): Promise<WebhookEndpoint[]>;
  deliveries(tenant: Tenant, filter: DeliveryFilter, limit: number, after: { createdAt: Date; id: string } | null): Promise<WebhookDelivery[]>;
  attemptsOf(tenant: Tenant, deliveryIds: readonly string[]): Promise<Map<string, WebhookAttempt[]>>;
  redeliver(tenant: Tenant, id: string): Promise<WebhookDelivery | null>;
  /** The tenant's status-callback secret, created or replaced; the old one still signs for `previousValidMs`. */
  rotateStatusCallbackSecret(tenant: Tenant, secret: string, previousValidMs: number): Promise<void>;
  hasStatusCallbackSecret(tenant: Tenant): Promise<boolean>;
  /** A call's own endpoint (createCall's statusCallbackUrl), signed with the tenant's status-callback secret; never listed with the endpoints. */
  insertCallEndpoint(tenant: Tenant, endpoint: { id: string; url: string; callId: string }): Promise<void>;
  deleteCallEndpoint(tenant: Tenant, id: string): Promise<void>;
}

/** createCall's statusCallbackUrl, as the call service sees it (implemented by WebhookEndpoints). */
export interface StatusCallbacks {
  /** Why the URL cannot be used (field `input.statusCallbackUrl`), checked as an endpoint's URL, and the secret it needs. */
  problems(url: string): Promise<UserError[]>;
  /** Registers the URL for the call about to be created (its id is known); the id to drop it by if the call is not created. */
  attach(callId: string, url: string): Promise<string>;
  detach(endpointId: string): Promise<void>;
}

export interface DeliveryFilter {
  endpointId?: string | null;
  callId?: string | null;
  status?: WebhookDelivery['status'][] | null;
}

/** Refuses URLs a hosted service must not call (loopback, private, link-local); see customer-webhooks/url-guard.ts. */
export interface UrlGuard {
  problem(url: URL): Promise<string | null>;
}

export type EndpointResult = { endpoint: WebhookEndpoint | null; secret: string | null; userErrors: UserError[] };

const SECRET_VALID_AFTER_ROTATION_MS = 24 * 60 * 60 * 1000;
const MAX_ENDPOINTS = 20;
const newEndpointId = () => `we_${ksuid()}`;
/** Standard Webhooks secrets: `whsec_` + base64 of 24 random bytes. */
const newSecret = () => `whsec_${randomBytes(24).toString('base64')}`;

/** Webhook endpoints and deliveries of one tenant (application + mode). */
export class WebhookEndpoints implements StatusCallbacks {
  constructor(
    private readonly store: WebhookStore,
    private readonly guard: UrlGuard,
    readonly tenant: Tenant,
    /** Both modes refuse private addresses unless this is set (WEBHOOK_ALLOW_PRIVATE_URLS). */
    private readonly allowPrivate: boolean,
    /** Told when endpoints were created or re-enabled (the fan-out starts at once). */
    private readonly onEndpointsChanged: () => void = () => {},
  ) {}

  async create(input: { url: string; events?: string[] | null }): Promise<EndpointResult> {
    const errors = [...(await this.urlProblems(input.url)), ...eventProblems(input.events)];
    if (errors.length) return { endpoint: null, secret: null, userErrors: errors };
    const secret = newSecret();
    const endpoint = await this.store.insertEndpoint(this.tenant, { id: newEndpointId(), url: input.url, events: dedupe(input.events), secret }, MAX_ENDPOINTS);
    if (!endpoint) {
      return {
        endpoint: null,
        secret: null,
        userErrors: [userError(UserErrorCode.INVALID_ARGUMENT, ['input'], `At most ${MAX_ENDPOINTS} endpoints per application and mode`)],
      };
    }
    this.onEndpointsChanged();
    return { endpoint, secret, userErrors: [] };
  }

  async update(input: { id: string; url?: string | null; events?: string[] | null; enabled?: boolean | null }): Promise<EndpointResult> {
    const errors = [...(input.url != null ? await this.urlProblems(input.url) : []), ...eventProblems(input.events)];
    if (errors.length) return { endpoint: null, secret: null, userErrors: errors };
    const endpoint = await this.store.updateEndpoint(this.tenant, input.id, {
      url: input.url ?? undefined,
      events: input.events != null ? dedupe(input.events) : undefined,
      enable: input.enabled ?? undefined,
    });
    if (endpoint) this.onEndpointsChanged();
    return endpoint ? { endpoint, secret: null, userErrors: [] } : notFound();
  }

  async delete(id: string): Promise<{ deletedId: string | null; userErrors: UserError[] }> {
    return (await this.store.deleteEndpoint(this.tenant, id)) ? { deletedId: id, userErrors: [] } : { deletedId: null, userErrors: notFound().userErrors };
  }

  /** A new secret; the old one keeps signing (both signatures are sent) for 24 h. */
  async rotate(id: string): Promise<EndpointResult> {
    const secret = newSecret();
    const endpoint = await this.store.rotateSecret(this.tenant, id, secret, SECRET_VALID_AFTER_ROTATION_MS);
    return endpoint ? { endpoint, secret, userErrors: [] } : notFound();
  }

  list(): Promise<WebhookEndpoint[]> {
    return this.store.endpoints(this.tenant);
  }

  async deliveries(
    filter: DeliveryFilter | null,
    first: number | null,
    after: string | null,
  ): Promise<{ deliveries: WebhookDelivery[]; hasNextPage: boolean }> {
    const limit = first ?? 20;
    if (!Number.isInteger(limit) || limit < 0 || limit > 100) throw new InvalidArgumentError('first', `"first" must be between 0 and 100, got ${limit}`);
    const cursor = after != null ? decodeDeliveryCursor(after, 'after') : null;
    const rows = limit === 0 ? [] : await this.store.deliveries(this.tenant, filter ?? {}, limit + 1, cursor);
    return { deliveries: rows.slice(0, limit), hasNextPage: rows.length > limit };
  }

  attemptsOf(ids: readonly string[]): Promise<Map<string, WebhookAttempt[]>> {
    return this.store.attemptsOf(this.tenant, ids);
  }

  /** Sends a delivery again, with the same webhook-id, now. */
  async redeliver(id: string): Promise<{ delivery: WebhookDelivery | null; userErrors: UserError[] }> {
    const delivery = await this.store.redeliver(this.tenant, id);
    return delivery
      ? { delivery, userErrors: [] }
      : {
          delivery: null,
          userErrors: [userError(UserErrorCode.WEBHOOK_DELIVERY_NOT_FOUND, ['input', 'id'], `No delivery ${id.slice(0, 40)} is visible to this key`)],
        };
  }

  /** A new status-callback secret for the tenant, shown once (as an endpoint's); the previous one still signs for 24 h. */
  async rotateStatusCallbackSecret(): Promise<{ secret: string; userErrors: UserError[] }> {
    const secret = newSecret();
    await this.store.rotateStatusCallbackSecret(this.tenant, secret, SECRET_VALID_AFTER_ROTATION_MS);
    return { secret, userErrors: [] };
  }

  async problems(url: string): Promise<UserError[]> {
    const errors = await this.urlProblems(url, ['input', 'statusCallbackUrl']);
    if (errors.length) return errors;
    if (!(await this.store.hasStatusCallbackSecret(this.tenant))) {
      return [
        userError(
          UserErrorCode.STATUS_CALLBACK_SECRET_MISSING,
          ['input', 'statusCallbackUrl'],
          "Status callbacks are signed with the application's status-callback secret, which does not exist yet: create it with rotateStatusCallbackSecret (it is shown once)",
        ),
      ];
    }
    return [];
  }

  async attach(callId: string, url: string): Promise<string> {
    const id = newEndpointId();
    await this.store.insertCallEndpoint(this.tenant, { id, url, callId });
    this.onEndpointsChanged();
    return id;
  }

  detach(endpointId: string): Promise<void> {
    return this.store.deleteCallEndpoint(this.tenant, endpointId);
  }

  private async urlProblems(raw: string, field: string[] = ['input', 'url']): Promise<UserError[]> {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return [userError(UserErrorCode.INVALID_URL, field, 'url is not an absolute URL')];
    }
    if (raw.length > 2048) return [userError(UserErrorCode.INVALID_URL, field, 'url is longer than 2048 characters')];
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return [userError(UserErrorCode.INVALID_URL, field, 'url must be http:// or https://')];
    if (url.username || url.password) return [userError(UserErrorCode.INVALID_URL, field, 'url must not carry credentials')];
    // Test keys too: a test endpoint on a private address would make webhookDeliveries a port scanner.
    if (!this.allowPrivate) {
      const problem = await this.guard.problem(url);
      if (problem) return [userError(UserErrorCode.URL_NOT_ALLOWED, field, problem)];
    }
    return [];
  }
}

export function deliveryCursor(delivery: WebhookDelivery): string {
  return encodeDeliveryCursor({ createdAt: delivery.createdAt, id: delivery.id });
}

function eventProblems(events: string[] | null | undefined): UserError[] {
  const unknown = (events ?? []).filter((event) => !WEBHOOK_EVENTS.includes(event));
  return unknown.length ? [userError(UserErrorCode.INVALID_ARGUMENT, ['input', 'events'], `Unknown events: ${unknown.slice(0, 5).join(', ')}`)] : [];
}

function dedupe(events: string[] | null | undefined): string[] {
  return [...new Set(events ?? [])];
}

function notFound(): EndpointResult {
  return {
    endpoint: null,
    secret: null,
    userErrors: [userError(UserErrorCode.WEBHOOK_ENDPOINT_NOT_FOUND, ['input', 'id'], 'No webhook endpoint with this id is visible to this key')],
  };
}
