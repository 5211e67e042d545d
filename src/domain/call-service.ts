import { CallDirection, CallStatus, Channel, EndReason, isPhoneChannel, roomsFor, type Call, type CallEvent, type CallOptions } from './call.js';
import {
  CallOrderField,
  type CallEventWithCall,
  type CallStats,
  type CallStatsGroup,
  type CallFilter,
  type CallKey,
  type CallStore,
  type SortDirection,
  type Viewer,
} from './call-store.js';
import { decodeCallCursor, decodeEventCursor, type EventKey } from './cursor.js';
import { InvalidArgumentError, UserErrorCode, userError, type UserError } from './errors.js';
import { newCallId, newEventId, looksLikeCallId } from './ids.js';
import { ProviderError, type ChannelProvider, type ProviderRegistry } from './channel-provider.js';
import { callOptions, optionProblems, providerRefusals, type CallOptionsInput } from './call-options.js';
import type { StatusCallbacks } from './webhook-endpoints.js';
import { NumberRouting } from './phone-numbers.js';
import { MAX_STATS_GROUPS, checkStatsQuery } from './call-stats.js';
import { callMatches, jsonContains } from './filter-match.js';
import { checkPageSize, validateCreateInput, validateFilter, type CreateCallFields } from './call-validation.js';
import { fingerprint } from './request-fingerprint.js';
import type { ProviderCallbacks } from './call-lifecycle.js';

const DEFAULT_PAGE_SIZE = 20;
const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

export interface CreateCallInput extends CreateCallFields, CallOptionsInput {}

export type CreateCallResult =
  | { call: Call; replayed: boolean; userErrors: [] }
  | { call: null; replayed: false; userErrors: UserError[] }
  /** The provider refused the call: it is stored, and ended FAILED (endReason "provider_error"). */
  | { call: Call; replayed: false; userErrors: UserError[] };

export interface ListCallsArgs {
  filter?: CallFilter | null;
  first?: number | null;
  last?: number | null;
  after?: string | null;
  before?: string | null;
  direction?: SortDirection;
  /** Default CREATED_AT. */
  orderBy?: CallOrderField;
}

/** Opens a live event stream for a tenant (implemented by the event log; see events/). */
export type LiveEventSource = (request: {
  tenant: Viewer;
  callId: string | null;
  filter: CallFilter;
  after: EventKey | null;
}) => Promise<AsyncIterable<CallEventWithCall>>;

export interface CallListPage {
  calls: Call[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
}

/**
 * Calls as one tenant (application + mode) sees them. Built per request with the tenant of the
 * authenticated key, so no caller can forget to scope a read or a write.
 */
/** What a CallService works with. */
export interface CallServiceParts {
  store: CallStore;
  providers: ProviderRegistry;
  /** The caller: an access token's filter (`scope`) narrows everything the store reads for it. */
  tenant: Viewer;
  live: LiveEventSource;
  /** Ends a call the provider refused (FAILED) and stores the provider's id for it. */
  providerCallbacks: Pick<ProviderCallbacks, 'apply' | 'setProviderCallId' | 'inboundCall' | 'dtmfReceived' | 'routingOf' | 'routed' | 'whatsappIdOf'>;
  /** Told when events were committed (the event log numbers and announces them). */
  onEventsWritten?: () => void;
  /** createCall's statusCallbackUrl (the tenant's webhook endpoints); null: refused. */
  statusCallbacks?: StatusCallbacks | null;
}

export class CallService {
  private readonly store: CallStore;
  private readonly providers: ProviderRegistry;
  readonly tenant: Viewer;
  private readonly live: LiveEventSource;
  private readonly providerCallbacks: CallServiceParts['providerCallbacks'];
  private readonly onEventsWritten: () => void;
  private readonly statusCallbacks: StatusCallbacks | null;

  constructor(parts: CallServiceParts) {
    this.store = parts.store;
    this.providers = parts.providers;
    this.tenant = parts.tenant;
    this.live = parts.live;
    this.providerCallbacks = parts.providerCallbacks;
    this.onEventsWritten = parts.onEventsWritten ?? (() => {});
    this.statusCallbacks = parts.statusCallbacks ?? null;
  }

  /** The callStatus stream: validated here, then replayed and followed by the event log. */
  async liveEvents(args: { callId: string | null; filter: CallFilter | null; after: string | null }): Promise<AsyncIterable<CallEventWithCall>> {
    if (args.callId !== null && !looksLikeCallId(args.callId)) {
      throw new InvalidArgumentError('callId', `No call ${args.callId.slice(0, 40)} is visible to this key`);
    }
    const filter = validateFilter(args.filter ?? {});
    const after = args.after !== null ? decodeEventCursor(args.after, 'after') : null;
    return this.live({ tenant: this.tenant, callId: args.callId, filter, after });
  }

  async create(input: CreateCallInput): Promise<CreateCallResult> {
    const id = newCallId(this.tenant.mode);
    const rooms = roomsFor(id, input.fromChannel, input.toChannel);
    const errors = [...validateCreateInput(input), ...optionProblems(input, rooms)];
    const provider = this.providers.forCall(this.tenant.mode, input.fromChannel, input.toChannel);
    const options = callOptions(input);
    if (errors.length === 0 && this.tenant.scope) errors.push(...tokenProblems(this.tenant.scope, input, options));
    if (errors.length === 0 && provider) errors.push(...providerRefusals(provider, options, input));
    if (errors.length === 0 && options.statusCallbackUrl !== undefined) {
      errors.push(
        ...(this.statusCallbacks
          ? await this.statusCallbacks.problems(options.statusCallbackUrl)
          : [userError(UserErrorCode.PROVIDER_NOT_CONFIGURED, ['input', 'statusCallbackUrl'], 'Status callbacks are not available here')]),
      );
    }
    // A WhatsApp call comes from one of the application's WhatsApp business numbers (a number
    // with its WhatsApp id: `numbers assign --whatsapp-id`), and its leg dials from that number.
    if (errors.length === 0 && input.fromChannel === Channel.WHATSAPP && (await this.providerCallbacks.whatsappIdOf(input.from, this.tenant.appId)) === null) {
      errors.push(
        userError(
          UserErrorCode.PHONE_NUMBER_NOT_ASSIGNED,
          ['input', 'from'],
          `${input.from.slice(0, 40)} is not a WhatsApp business number of this application (numbers assign --whatsapp-id)`,
        ),
      );
    }
    if (errors.length === 0 && !provider) {
      errors.push(
        userError(
          UserErrorCode.PROVIDER_NOT_CONFIGURED,
          ['input', 'toChannel'],
          `No ${this.tenant.mode} provider is configured for ${input.fromChannel.toUpperCase()} to ${input.toChannel.toUpperCase()} calls`,
        ),
      );
    }
    if (errors.length > 0 || !provider) return { call: null, replayed: false, userErrors: errors };

    const metadata = input.metadata ?? {};
    const idempotencyKey = input.idempotencyKey ?? null;
    // Only a request with a key is compared with another (a hash per keyed request, none otherwise).
    const requestFingerprint = idempotencyKey ? fingerprint(input, metadata, options) : null;
    // The call's own endpoint is written first, so that no event of the call can precede it; it
    // goes again if the call is not created (a replayed key, a number not assigned).
    const callback = options.statusCallbackUrl !== undefined ? await this.statusCallbacks!.attach(id, options.statusCallbackUrl) : null;
    const result = await this.store.insert(
      this.tenant,
      {
        id,
        eventId: newEventId(),
        ...newOutboundCall(input),
        metadata,
        options,
        ...rooms,
        idempotencyKey,
        requestFingerprint,
        provider: provider.name,
      },
      { requireAssignedNumber: isPhoneChannel(input.fromChannel), idempotencyWindowMs: IDEMPOTENCY_WINDOW_MS },
    );
    if (callback && result.kind !== 'created') await this.statusCallbacks!.detach(callback);
    switch (result.kind) {
      case 'created':
        this.onEventsWritten();
        return this.place(provider, result.call);
      case 'idempotency_key_taken': {
        // An access token sees only the calls its filter matches: a key taken by a call outside
        // it is refused without naming or returning that call (another customer's, or one whose
        // status has moved out of the token's view).
        const visible = !this.tenant.scope || callMatches(result.call, this.tenant.scope);
        if (visible && result.fingerprint === requestFingerprint) {
          return { call: result.call, replayed: true, userErrors: [] };
        }
        return fail(
          userError(
            UserErrorCode.IDEMPOTENCY_KEY_REUSED,
            ['input', 'idempotencyKey'],
            visible
              ? `This idempotency key was used within the last 24 hours with different input (call ${result.call.id})`
              : 'This idempotency key was used within the last 24 hours',
          ),
        );
      }
      case 'number_not_assigned':
        return fail(userError(UserErrorCode.PHONE_NUMBER_NOT_ASSIGNED, ['input', 'from'], `${input.from} is not a number assigned to this application`));
    }
  }

  /**
   * Hands a stored call to its provider. A refusal ends the call FAILED with the provider's
   * message: a call is never left INITIATED with nobody placing it.
   */
  private async place(provider: ChannelProvider, call: Call): Promise<CreateCallResult> {
    try {
      const placed = await provider.placeCall(call);
      if (placed.providerCallId) {
        await this.providerCallbacks.setProviderCallId(call.id, placed.providerCallId);
        call = { ...call, providerCallId: placed.providerCallId };
      }
      return { call, replayed: false, userErrors: [] };
    } catch (error) {
      const message = error instanceof ProviderError ? `${error.provider}: ${error.message}` : 'The provider could not be reached';
      const failed = await this.providerCallbacks.apply({ callId: call.id, status: CallStatus.FAILED, endReason: EndReason.PROVIDER_ERROR });
      if (!(error instanceof ProviderError)) throw error;
      return { call: failed?.call ?? call, replayed: false, userErrors: [userError(UserErrorCode.PROVIDER_ERROR, ['input', 'toChannel'], message)] };
    }
  }

  /** Test mode: a party of an answered test call presses keys (as Telnyx's call.dtmf.received): a DTMF_RECEIVED event. */
  async simulateDtmf(callId: string, digits: string): Promise<{ call: Call | null; userErrors: UserError[] }> {
    if (this.tenant.mode !== 'test') {
      return {
        call: null,
        userErrors: [userError(UserErrorCode.TEST_MODE_ONLY, ['input'], 'simulateDtmf needs a test key: live DTMF comes from the providers')],
      };
    }
    if (!/^[0-9A-D*#]{1,64}$/.test(digits)) {
      return { call: null, userErrors: [userError(UserErrorCode.INVALID_ARGUMENT, ['input', 'digits'], 'digits are 1 to 64 of 0-9, A-D, * and #')] };
    }
    const call = looksLikeCallId(callId) ? await this.store.findById(this.tenant, callId) : null;
    if (!call)
      return {
        call: null,
        userErrors: [userError(UserErrorCode.CALL_NOT_FOUND, ['input', 'callId'], `No call ${callId.slice(0, 40)} is visible to this key`)],
      };
    if (!(await this.providerCallbacks.dtmfReceived(call.id, digits))) {
      return {
        call: null,
        userErrors: [
          userError(UserErrorCode.CALL_NOT_ACTIVE, ['input', 'callId'], `Keys are pressed on an answered call; this one is ${call.status.toUpperCase()}`),
        ],
      };
    }
    this.onEventsWritten();
    return { call: await this.store.findById(this.tenant, call.id), userErrors: [] };
  }

  /**
   * Test mode: a call arrives for the application (as a provider's inbound webhook would
   * report it) and the simulator rings it until answerCall, rejectCall or sendToVoicemail.
   */
  async simulateInbound(input: Omit<CreateCallInput, 'idempotencyKey'>): Promise<CreateCallResult> {
    if (this.tenant.mode !== 'test') {
      return fail(userError(UserErrorCode.TEST_MODE_ONLY, ['input'], 'simulateInboundCall needs a test key: live inbound calls come from the providers'));
    }
    const errors = validateCreateInput({ ...input, idempotencyKey: null });
    const provider = this.providers.forCall('test', input.fromChannel, input.toChannel);
    if (errors.length > 0 || !provider) return { call: null, replayed: false, userErrors: errors };
    const call = await this.providerCallbacks.inboundCall({
      provider: provider.name,
      providerCallId: null,
      from: input.from,
      to: input.to,
      fromChannel: input.fromChannel,
      toChannel: input.toChannel,
      mode: 'test',
      appId: this.tenant.appId,
      requireAssignedNumber: isPhoneChannel(input.toChannel),
      metadata: input.metadata ?? {},
    });
    if (!call) return fail(userError(UserErrorCode.PHONE_NUMBER_NOT_ASSIGNED, ['input', 'to'], `${input.to} is not a number assigned to this application`));
    // The number's routing (test mode's own): forwarded or rung in a room at once, as a live provider would.
    const { routing, target } = await this.providerCallbacks.routingOf(input.to, 'test');
    if (routing !== NumberRouting.APPLICATION && target) {
      const routed = await this.providerCallbacks.routed(call.id, target, routing === NumberRouting.FORWARD ? Channel.PSTN : Channel.WEBRTC);
      if (routed) return this.place(provider, routed.call);
    }
    return this.place(provider, call);
  }

  /** null when the id is malformed, unknown, or another tenant's. */
  async get(id: string): Promise<Call | null> {
    if (!looksLikeCallId(id)) return null;
    return this.store.findById(this.tenant, id);
  }

  async getMany(ids: readonly string[]): Promise<Call[]> {
    const wellFormed = ids.filter(looksLikeCallId);
    return wellFormed.length ? this.store.findByIds(this.tenant, wellFormed) : [];
  }

  async list(args: ListCallsArgs): Promise<CallListPage> {
    const { first, last } = args;
    if (first != null && last != null) throw new InvalidArgumentError('first', 'Pass "first" or "last", not both');
    checkPageSize('first', first);
    checkPageSize('last', last);
    const filter = validateFilter(args.filter ?? {});
    const orderBy = args.orderBy ?? CallOrderField.CREATED_AT;
    const after = args.after != null ? decodeCallCursor(args.after, 'after', orderBy) : null;
    const before = args.before != null ? decodeCallCursor(args.before, 'before', orderBy) : null;
    const fromEnd = last != null;
    const limit = last ?? first ?? DEFAULT_PAGE_SIZE;
    if (limit === 0) {
      return { calls: [], hasNextPage: false, hasPreviousPage: false };
    }
    const page = await this.store.page(this.tenant, { filter, orderBy, direction: args.direction ?? 'DESC', limit, fromEnd, after, before });
    // Relay: the side the page was taken from is exact; the other side is known from the cursor
    // that bounds it (an `after` cursor names a row before this page, since calls are never deleted).
    return fromEnd
      ? { calls: page.calls, hasPreviousPage: page.hasMore, hasNextPage: before !== null }
      : { calls: page.calls, hasNextPage: page.hasMore, hasPreviousPage: after !== null };
  }

  /** callStats: counts, answer rate and durations per group, computed by the database. */
  async stats(args: { filter?: CallFilter | null; groupBy?: CallStatsGroup[] | null; from: Date; to: Date }): Promise<CallStats> {
    const filter = validateFilter(args.filter ?? {});
    const groupBy = checkStatsQuery({ filter, groupBy: args.groupBy ?? [], from: args.from, to: args.to });
    const { truncated, ...stats } = await this.store.stats(this.tenant, { filter, groupBy, from: args.from, to: args.to }, MAX_STATS_GROUPS);
    if (truncated) {
      throw new InvalidArgumentError('groupBy', `"groupBy" makes more than ${MAX_STATS_GROUPS} groups: narrow the range, the filter or the grouping`);
    }
    return stats;
  }

  async count(filter: CallFilter | null | undefined): Promise<number> {
    return this.store.count(this.tenant, validateFilter(filter ?? {}));
  }

  /** Events of many calls (for a DataLoader), oldest first. */
  async eventsOf(callIds: readonly string[], page: { first: number; afterSequence: number }): Promise<Map<string, CallEvent[]>> {
    return this.store.eventsOfCalls(this.tenant, callIds, page);
  }
}

/** What createCall stores for its input, before the store adds ids and times. */
function newOutboundCall(input: CreateCallInput) {
  return {
    direction: CallDirection.OUTBOUND,
    status: CallStatus.INITIATED,
    fromAddress: input.from,
    toAddress: input.to,
    fromChannel: input.fromChannel,
    toChannel: input.toChannel,
    metadata: input.metadata ?? {},
  };
}

/**
 * An access token creates only calls its own filter would show it (e.g. carrying its
 * `customerId` metadata), judged on the call as it is stored: OUTBOUND, INITIATED, created now.
 * Registering a status callback URL is the application's, not a browser's.
 */
function tokenProblems(scope: CallFilter, input: CreateCallInput, options: CallOptions): UserError[] {
  const problems: UserError[] = [];
  const call = {
    ...newOutboundCall(input),
    createdAt: new Date(),
    startedAt: null,
    answeredAt: null,
    endedAt: null,
    endReason: null,
    duration: null,
    answeredBy: null,
  } as unknown as Call;
  if (!callMatches(call, scope)) {
    const metadata = scope.metadata && !jsonContains(call.metadata, scope.metadata);
    problems.push(
      userError(
        UserErrorCode.OUTSIDE_TOKEN_FILTER,
        metadata ? ['input', 'metadata'] : ['input'],
        metadata
          ? `This access token creates only calls whose metadata contains ${JSON.stringify(scope.metadata).slice(0, 200)}`
          : 'This access token creates only calls its filter matches, and this one would not',
      ),
    );
  }
  if (options.statusCallbackUrl !== undefined) {
    problems.push(
      userError(UserErrorCode.OUTSIDE_TOKEN_FILTER, ['input', 'statusCallbackUrl'], 'statusCallbackUrl needs the secret key: access tokens cannot set it'),
    );
  }
  return problems;
}

/** The call's position in a listing ordered by `field` (the listing only holds calls that have the field). */
export function keyOf(call: Call, field: CallOrderField = CallOrderField.CREATED_AT): CallKey {
  const value =
    field === CallOrderField.CREATED_AT
      ? call.createdAt
      : field === CallOrderField.STARTED_AT
        ? call.startedAt
        : field === CallOrderField.ENDED_AT
          ? call.endedAt
          : call.duration;
  return { field, value: value ?? 0, id: call.id };
}

function fail(error: UserError): CreateCallResult {
  return { call: null, replayed: false, userErrors: [error] };
}
