import express from 'express';
import type { ProviderWebhook } from '../domain/channel-provider.js';
import type { Logger } from '../domain/logger.js';
import { SpanKind, inSpan } from '../shared/tracing.js';

/**
 * Mounts each provider's webhook endpoint at /webhooks/<path>, with the body kept raw: every
 * provider signs the exact bytes it sent, so the body must not be parsed before it is verified.
 */
export function mountProviderCallbacks(app: express.Express, endpoints: readonly ProviderWebhook[], logger: Logger): void {
  for (const endpoint of endpoints) {
    app.all(`/webhooks/${endpoint.path}`, express.raw({ type: () => true, limit: '1mb' }), (req, res) =>
      // A span per callback (tracing on); the status changes it causes are spans of their calls' traces, linked to it.
      inSpan(`provider callback ${endpoint.path}`, { kind: SpanKind.SERVER, attributes: { 'calls.provider_callback': endpoint.path } }, () => handle(req, res)),
    );
    const handle = async (req: express.Request, res: express.Response): Promise<void> => {
      try {
        const response = await endpoint.handle({
          method: req.method,
          headers: req.headers,
          query: Object.fromEntries(Object.entries(req.query).map(([key, value]) => [key, typeof value === 'string' ? value : undefined])),
          rawBody: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
        });
        res
          .status(response.status)
          .type(response.contentType ?? 'text/plain')
          .send(response.body ?? '');
      } catch (error) {
        logger.error('webhook handling failed', { path: endpoint.path, error: String((error as Error)?.stack ?? error) });
        // 500: the provider retries, and the lifecycle makes a retried callback harmless.
        res.status(500).type('text/plain').send('internal error');
      }
    };
  }
}
