import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, trace, type Attributes, type Context, type Link, type Span } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

/**
 * OpenTelemetry for every layer (issue 25, part 1): the API only; the SDK is started by
 * server/telemetry.ts when the standard OTEL_* variables configure an exporter. Until then
 * `tracing.on` is false and every helper here returns before touching the API, so the hot paths
 * pay one property read (bench/README.md, "tracing").
 *
 * A call's trace: the W3C `traceparent` of the operation that created a call is stored with the
 * call (`call.trace_parent`), and every later span about that call (a status change, its fan-out,
 * a webhook delivery) is started as its child, so one trace holds the call's whole life.
 *
 * Attributes are chosen here and at each call site, never copied from requests: no key, token,
 * variable or metadata value is ever an attribute.
 */
export const tracing = { on: false };

const w3c = new W3CTraceContextPropagator();
const headerGetter = {
  keys: (carrier: Record<string, unknown>) => Object.keys(carrier),
  get: (carrier: Record<string, unknown>, key: string) => {
    const value = carrier[key];
    return typeof value === 'string' || Array.isArray(value) ? (value as string | string[]) : undefined;
  },
};

/** A span of the gateway's tracer under `parent` (the one place spans are opened). */
function open(name: string, options: SpanOptions & { startTime?: Date | number }, parent: Context): Span {
  const { kind = SpanKind.INTERNAL, attributes, links, startTime } = options;
  return trace.getTracer('calls-gateway').startSpan(name, { kind, attributes, links, startTime }, parent);
}

/** The context of W3C trace headers (`traceparent`, `tracestate`); the root context when they are absent or malformed. */
export function contextOfHeaders(headers: Record<string, unknown>): Context {
  return w3c.extract(ROOT_CONTEXT, headers, headerGetter);
}

/** The context whose parent is a stored `traceparent` (a call's); the root context for null. */
export function contextOfTraceParent(traceParent: string | null | undefined): Context {
  return traceParent ? contextOfHeaders({ traceparent: traceParent }) : ROOT_CONTEXT;
}

/** `traceparent` (and `tracestate`) of a span, for an outbound request or to store. */
export function traceHeadersOf(span: Span): Record<string, string> {
  const headers: Record<string, string> = {};
  w3c.inject(trace.setSpan(ROOT_CONTEXT, span), headers, { set: (carrier, key, value) => (carrier[key] = value) });
  return headers;
}

/** The `traceparent` of the active span (what a call stores when it is created); null while tracing is off or outside a span. */
export function activeTraceParent(): string | null {
  if (!tracing.on) return null;
  const span = trace.getActiveSpan();
  return span ? (traceHeadersOf(span).traceparent ?? null) : null;
}

/** The active span's context as a link (for one statement that serves many requests: the grouped INSERT). */
export function activeLink(): Link | null {
  if (!tracing.on) return null;
  const span = trace.getActiveSpan();
  return span?.isRecording() ? { context: span.spanContext() } : null;
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** The parent: a stored traceparent's context, a client's; the active context when absent. */
  parent?: Context;
  links?: Link[];
}

/**
 * Runs `work` in a span (ended when it settles; an error marks it and is rethrown), the span
 * active inside it. Without tracing, `work` runs as it is, given no span.
 */
export async function inSpan<T>(name: string, options: SpanOptions, work: (span: Span | undefined) => Promise<T>): Promise<T> {
  if (!tracing.on) return work(undefined);
  const parent = options.parent ?? context.active();
  const span = open(name, options, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => work(span));
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
    throw error;
  } finally {
    span.end();
  }
}

/** A span started now and ended by the caller (one that outlives a function: a WebSocket operation); undefined without tracing. */
export function startSpan(name: string, options: SpanOptions): Span | undefined {
  return tracing.on ? open(name, options, options.parent ?? context.active()) : undefined;
}

/** A span already over (a status change recorded after its statement): started at `startTime`, ended now. */
export function recordSpan(name: string, options: SpanOptions & { startTime?: Date | number }): void {
  if (tracing.on) open(name, options, options.parent ?? context.active()).end();
}

/** The trace and span ids of the active span, for log lines; undefined outside one. */
export function logIds(): { trace_id: string; span_id: string } | undefined {
  if (!tracing.on) return undefined;
  const span = trace.getActiveSpan();
  if (!span) return undefined;
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

export { SpanKind };
