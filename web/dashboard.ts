import { createClient, type Client } from 'graphql-ws';
import { LiveCharts, type StatsGroup } from './charts.js';

/**
 * The live calls dashboard: lists calls with `calls` (cursor pagination, filters), keeps every
 * row, the counts and the open timeline up to date from `callStatus`, and after a dropped
 * connection resubscribes from the last event cursor it saw (`after:`), so nothing is missed and
 * nothing is shown twice.
 *
 * Each change is counted exactly once, also the ones made while the page reads:
 * 1. callStats (the charts and the counts) comes with its place in the log (`asOf`), read in the
 *    same snapshot as the figures;
 * 2. the rows come with their `version` (the sequence of each call's latest event);
 * 3. callStatus(after: asOf) then delivers every change the figures do not count (the events in
 *    `countedAfterAsOf` are skipped: counted, numbered just after); a row takes only the events
 *    above its version, which its read did not show.
 *
 * It runs on an access token (createAccessToken or `calls-gateway tokens create`), never the
 * application's secret key: a token is short-lived and limited to its scopes and filter. The token
 * stays in sessionStorage, never in the URL; the page says when it expires, and the gateway ends
 * the live connection then.
 */
const STATUSES = ['INITIATED', 'RINGING', 'IN_PROGRESS', 'VOICEMAIL', 'COMPLETED', 'FAILED', 'BUSY', 'NO_ANSWER', 'CANCELED'];
const CALL_FIELDS = 'id status direction fromAddress toAddress fromChannel toChannel duration endReason metadata createdAt version';
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const httpUrl = `${location.origin}/graphql`;

interface Call {
  id: string;
  status: string;
  direction: string;
  fromAddress: string;
  toAddress: string;
  fromChannel: string;
  toChannel: string;
  duration: number | null;
  endReason: string | null;
  metadata: Record<string, unknown>;
  createdAt: string;
  /** The sequence of its latest event: a row ignores events at or below it. */
  version: number;
}
interface Event {
  id: string;
  sequence: number;
  kind: string;
  status: string;
  previousStatus: string | null;
  occurredAt: string;
  cursor: string;
  call: Call;
}

const TOKEN_STORAGE = 'calls-gateway:token';
let key = sessionStorage.getItem(TOKEN_STORAGE) ?? '';

/** The token's claims (read, not verified: the gateway verifies); null when it is not an access token. */
function claimsOf(token: string): { exp?: number; scp?: string[]; flt?: { metadata?: Record<string, unknown> } } | null {
  const parts = token.split('.');
  if (parts.length !== 3 || !token.startsWith('eyJ')) return null;
  try {
    return JSON.parse(atob(parts[1]!.replace(/-/g, '+').replace(/_/g, '/')));
  } catch {
    return null;
  }
}
let ws: Client | null = null;
let unsubscribe: (() => void) | null = null;
let lastCursor: string | null = null;
const seen = new Set<string>();
/** Events the figures already count though the log numbered them after their asOf. */
let countedAlready = new Set<string>();
const rows = new Map<string, Call>();
let endCursor: string | null = null;
let filter: Record<string, unknown> = {};
let openCall: string | null = null;
const charts = new LiveCharts(STATUSES, $('chart-calls'), $('chart-answer'));
(window as unknown as { __charts: LiveCharts }).__charts = charts;
// The window slides with the clock even when no call changes (the counts with it).
setInterval(() => {
  charts.schedule();
  renderCounts();
}, 15_000);

async function gql<T = any>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch(httpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors?.length) throw new Error(body.errors[0].message);
  return body.data;
}

function setConnection(state: 'on' | 'off' | 'wait', text: string): void {
  const element = $('connection');
  element.className = `connection ${state}`;
  element.textContent = text;
}

// ---- list, filters, counts ----------------------------------------------------------------
function readFilter(): Record<string, unknown> {
  const next: Record<string, unknown> = {};
  const status = $<HTMLSelectElement>('f-status').value;
  const channel = $<HTMLSelectElement>('f-channel').value;
  const direction = $<HTMLSelectElement>('f-direction').value;
  const metaKey = $<HTMLInputElement>('f-meta-key').value.trim();
  const after = $<HTMLInputElement>('f-after').value;
  const before = $<HTMLInputElement>('f-before').value;
  if (status) next.status = [status];
  if (channel) next.toChannel = [channel];
  if (direction) next.direction = direction;
  if (metaKey) next.metadata = { [metaKey]: $<HTMLInputElement>('f-meta-value').value };
  if (after) next.createdAfter = new Date(after).toISOString();
  if (before) next.createdBefore = new Date(before).toISOString();
  return next;
}

/** Whether a call belongs in the list under the current filter (what the server would answer). */
function matches(call: Call): boolean {
  const f = filter as {
    status?: string[];
    toChannel?: string[];
    direction?: string;
    metadata?: Record<string, unknown>;
    createdAfter?: string;
    createdBefore?: string;
  };
  if (f.status && !f.status.includes(call.status)) return false;
  if (f.toChannel && !f.toChannel.includes(call.toChannel)) return false;
  if (f.direction && f.direction !== call.direction) return false;
  if (f.metadata && !Object.entries(f.metadata).every(([k, v]) => call.metadata?.[k] === v)) return false;
  if (f.createdAfter && call.createdAt < f.createdAfter) return false;
  if (f.createdBefore && call.createdAt >= f.createdBefore) return false;
  return true;
}

async function loadPage(reset: boolean): Promise<void> {
  if (reset) {
    rows.clear();
    endCursor = null;
    $('calls').querySelector('tbody')!.replaceChildren();
  }
  const data = await gql(
    `query Page($filter: CallFilter, $after: String) { calls(first: 20, after: $after, filter: $filter) { nodes { ${CALL_FIELDS} } pageInfo { hasNextPage endCursor } } }`,
    { filter, after: endCursor },
  );
  for (const call of data.calls.nodes as Call[]) upsertRow(call, false);
  endCursor = data.calls.pageInfo.endCursor;
  $('more').hidden = !data.calls.pageInfo.hasNextPage;
}

/**
 * The charts' and the counts' figures, and where they stand in the log (their asOf). A log too far
 * behind to say (asOf null) is asked again a moment later.
 */
async function loadStats(): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const data = await gql(
      `query Stats($from: DateTime!, $to: DateTime!) { callStats(from: $from, to: $to, groupBy: [MINUTE, STATUS]) { groups { key { period status } count answered } asOf countedAfterAsOf } }`,
      LiveCharts.range(),
    );
    if (data.callStats.asOf || attempt >= 20) {
      charts.load(data.callStats.groups as StatsGroup[]);
      countedAlready = new Set(data.callStats.countedAfterAsOf ?? []);
      renderCounts();
      return data.callStats.asOf;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The counts: the calls of the charts' window by status, as callStats counts them. */
function renderCounts(): void {
  const counts = charts.byStatus();
  $('counts').replaceChildren(
    ...STATUSES.map((status) => {
      const box = document.createElement('div');
      box.className = 'count';
      box.dataset.status = status;
      box.innerHTML = `<b>${counts.get(status) ?? 0}</b>${status}`;
      return box;
    }),
  );
}

function upsertRow(call: Call, prepend: boolean): void {
  const tbody = $('calls').querySelector('tbody')!;
  rows.set(call.id, call);
  let row = tbody.querySelector<HTMLTableRowElement>(`tr[data-id="${call.id}"]`);
  if (!row) {
    row = document.createElement('tr');
    row.dataset.id = call.id;
    row.addEventListener('click', () => void openDetail(call.id));
    if (prepend) tbody.prepend(row);
    else tbody.append(row);
  }
  const cell = (text: string) => {
    const td = document.createElement('td');
    td.textContent = text;
    return td;
  };
  const status = document.createElement('td');
  status.innerHTML = `<span class="status ${call.status}">${call.status}</span>`;
  row.dataset.status = call.status;
  row.replaceChildren(
    cell(call.id),
    status,
    cell(call.fromAddress),
    cell(call.toAddress),
    cell(`${call.fromChannel} → ${call.toChannel}`),
    cell(new Date(call.createdAt).toLocaleTimeString()),
    cell(call.duration == null ? '' : `${call.duration} s`),
  );
}

// ---- live -----------------------------------------------------------------------------
const SUBSCRIPTION = `subscription Live($after: String) { callStatus(after: $after) { id sequence kind status previousStatus occurredAt cursor call { ${CALL_FIELDS} } } }`;

function onEvent(event: Event): void {
  lastCursor = event.cursor;
  if (seen.has(event.id)) return;
  seen.add(event.id);
  // The figures: every change after their asOf, but those they count already.
  if (!countedAlready.delete(event.id) && event.kind === 'STATUS_CHANGED') {
    charts.apply(event);
    renderCounts();
  }
  // A row: only what its read did not show (the call as the event brings it is at least as new).
  const call = event.call;
  const row = rows.get(call.id);
  if (!row || event.sequence > row.version) {
    if (matches(call)) upsertRow(call, !row);
    else if (row) removeRow(call.id);
  }
  if (openCall === call.id) appendTimeline(event);
}

function removeRow(id: string): void {
  rows.delete(id);
  $('calls').querySelector(`tr[data-id="${id}"]`)?.remove();
}

function subscribe(): void {
  unsubscribe?.();
  // First subscription: from the figures' asOf (every change they do not count). After a
  // reconnect: from the last event seen, so the events of the outage are replayed, in order, none twice.
  unsubscribe = ws!.subscribe(
    { query: SUBSCRIPTION, variables: lastCursor ? { after: lastCursor } : {} },
    {
      next: (result) => {
        const event = (result.data as { callStatus?: Event } | undefined)?.callStatus;
        if (event) onEvent(event);
      },
      error: () => setConnection('off', 'subscription failed'),
      complete: () => {},
    },
  );
}

function connect(): void {
  ws?.dispose();
  let first = true;
  ws = createClient({
    url: httpUrl.replace(/^http/, 'ws'),
    connectionParams: () => ({ authorization: `Bearer ${key}` }),
    retryAttempts: Infinity,
    shouldRetry: () => true,
    retryWait: async (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 250 * 2 ** retries))),
    on: {
      connecting: () => setConnection('wait', 'connecting…'),
      connected: () => {
        setConnection('on', 'live');
        // graphql-ws would resubscribe with the old variables; resume from the newest cursor instead.
        if (!first) subscribe();
        first = false;
      },
      closed: () => setConnection('wait', 'reconnecting…'),
    },
  });
  subscribe();
}

// ---- detail ---------------------------------------------------------------------------
function appendTimeline(event: Pick<Event, 'sequence' | 'kind' | 'status' | 'occurredAt'>): void {
  const list = $('timeline');
  if (list.querySelector(`li[data-sequence="${event.sequence}"]`)) return;
  const item = document.createElement('li');
  item.dataset.sequence = String(event.sequence);
  item.textContent = `${event.sequence}. ${event.kind === 'STATUS_CHANGED' ? event.status : `${event.kind} (${event.status})`} · ${new Date(event.occurredAt).toLocaleTimeString()}`;
  list.append(item);
}

async function openDetail(id: string): Promise<void> {
  openCall = id;
  $('detail').hidden = false;
  $('detail-title').textContent = id;
  $('timeline').replaceChildren();
  const data = await gql(`query Detail($id: ID!) { call(id: $id) { events(first: 100) { nodes { sequence kind status occurredAt } } } }`, { id });
  for (const event of data.call?.events.nodes ?? []) appendTimeline(event);
}

// ---- wiring ---------------------------------------------------------------------------
async function start(): Promise<void> {
  $('main').hidden = false;
  filter = readFilter();
  // The figures first (their asOf), the rows second (their versions), then live from asOf.
  const asOf = await loadStats();
  await loadPage(true);
  lastCursor = asOf;
  connect();
}

let expiryTimer: ReturnType<typeof setTimeout> | undefined;
/** Takes a pasted token: refuses a secret key, shows the expiry, stops the page when it passes. */
function useToken(token: string): boolean {
  const claims = claimsOf(token);
  if (token.startsWith('sk_') || !claims) {
    setConnection(
      'off',
      'paste an access token, not a secret key: npx calls-gateway tokens create --app … --mode test --scope CALLS_READ,STATUS_SUBSCRIBE --json',
    );
    return false;
  }
  key = token;
  sessionStorage.setItem(TOKEN_STORAGE, key);
  const expires = (claims.exp ?? 0) * 1000;
  $('token-expiry').textContent = `token: ${(claims.scp ?? []).join(', ')} · expires ${new Date(expires).toLocaleTimeString()}`;
  clearTimeout(expiryTimer);
  expiryTimer = setTimeout(
    () => {
      ws?.dispose();
      setConnection('off', 'token expired: paste a new one');
    },
    Math.max(0, Math.min(expires - Date.now(), 2 ** 31 - 1)),
  );
  return expires > Date.now();
}

$('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  if (!useToken($<HTMLInputElement>('access-token').value.trim())) return;
  void start().catch((error: Error) => setConnection('off', error.message));
});
$('filters').addEventListener('submit', (event) => {
  event.preventDefault();
  filter = readFilter();
  void loadPage(true);
});
$('more').addEventListener('click', () => void loadPage(false));
$('close-detail').addEventListener('click', () => {
  openCall = null;
  $('detail').hidden = true;
});
$('test-call').addEventListener('submit', async (event) => {
  event.preventDefault();
  const output = $('test-call-result');
  try {
    const data = await gql(`mutation Place($input: CreateCallInput!) { createCall(input: $input) { call { id status } userErrors { code message } } }`, {
      // A token with a metadata filter creates only calls that carry that metadata.
      input: {
        from: $<HTMLInputElement>('from').value.trim(),
        to: $<HTMLSelectElement>('to').value,
        metadata: { source: 'dashboard', ...claimsOf(key)?.flt?.metadata },
      },
    });
    const payload = data.createCall;
    output.textContent = payload.userErrors.length ? `${payload.userErrors[0].code}: ${payload.userErrors[0].message}` : `placed ${payload.call.id}`;
  } catch (error) {
    output.textContent = (error as Error).message;
  }
});
for (const status of STATUSES) $<HTMLSelectElement>('f-status').append(new Option(status, status));
$<HTMLInputElement>('access-token').value = key;
if (key && useToken(key)) void start().catch((error: Error) => setConnection('off', error.message));
