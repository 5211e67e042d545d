import { trace, context } from '@opentelemetry/api';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  NodeTracerProvider,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
} from '@opentelemetry/sdk-trace-node';
import type { Config } from '../config.js';
import { tracing } from '../shared/tracing.js';

/**
 * Starts OpenTelemetry tracing when an OTLP endpoint is configured (the standard OTEL_* variables,
 * read through config/variables.ts so they are validated and documented with the rest): a
 * NodeTracerProvider with a batching OTLP/HTTP exporter (protobuf or JSON), the sampler asked
 * for, and the undici instrumentation, which sees every `fetch` (the WhatsApp Cloud API, the
 * LiveKit and Telnyx SDKs' requests). Off otherwise: nothing is registered and `tracing.on`
 * stays false (shared/tracing.ts). Returns how to flush and stop it, or null when off.
 *
 * The gateway makes its own spans for what instrumentations cannot see: GraphQL operations
 * (graphql-jit executes them, so the graphql instrumentation sees nothing), SQL (`Sql.query`: one
 * grouped INSERT serves many requests and is linked to each), status changes, fan-out, webhook
 * deliveries and sequencer runs.
 */
export function startTelemetry(config: Config): { stop(): Promise<void> } | null {
  const endpoint = config.otelTracesEndpoint ?? (config.otelEndpoint ? `${config.otelEndpoint}/v1/traces` : undefined);
  if (!endpoint || config.otelDisabled) return null;
  const exporter = config.otelProtocol === 'http/json' ? new JsonExporter({ url: endpoint }) : new ProtobufExporter({ url: endpoint });
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.otelServiceName }),
    sampler: samplerOf(config.otelSampler, config.otelSamplerArg),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 500 })],
  });
  provider.register();
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    // The exporter's own requests are not traced (they would trace themselves).
    instrumentations: [new UndiciInstrumentation({ ignoreRequestHook: (request) => `${request.origin}${request.path}`.startsWith(endpoint) })],
  });
  tracing.on = true;
  return {
    async stop() {
      tracing.on = false;
      unregister();
      await provider.forceFlush().catch(() => undefined);
      await provider.shutdown().catch(() => undefined);
      trace.disable();
      context.disable();
    },
  };
}

function samplerOf(name: Config['otelSampler'], ratio: number): Sampler {
  const root = name.endsWith('always_off')
    ? new AlwaysOffSampler()
    : name.endsWith('traceidratio')
      ? new TraceIdRatioBasedSampler(ratio)
      : new AlwaysOnSampler();
  return name.startsWith('parentbased_') ? new ParentBasedSampler({ root }) : root;
}
