import type express from 'express';
import { GraphQLError } from 'graphql';
import type { Logger } from '../domain/logger.js';
import type { RecordingLinks } from '../domain/recording-links.js';
import { ProviderError } from '../domain/channel-provider.js';
import type { OperationPipeline } from './pipeline.js';
import type { CorsPolicy } from './cors.js';
import { AccessScope } from '../domain/access-tokens.js';
import { CODE, GATEWAY_ERRORS, type GatewayErrorCode } from '../graphql/error-codes.js';

/**
 * GET /recordings/{id}: a saved recording's file, for the application's key (Authorization:
 * Bearer, rate-limited like an operation). Answers 302 to a link that works now (the domain's
 * RecordingLinks asks the provider when its links expire); 401 without a valid key; 404 for a
 * recording the key cannot see or that is not saved; 502 when the provider cannot say where it is.
 * Errors are JSON in the shape of a GraphQL error, with its code.
 */
export function mountRecordingDownloads(app: express.Express, pipeline: OperationPipeline, cors: CorsPolicy, links: RecordingLinks, logger: Logger): void {
  const fail = (res: express.Response, code: GatewayErrorCode, message: string, headers: Record<string, string> = {}) =>
    res
      .status(GATEWAY_ERRORS[code].http)
      .set(headers)
      .json({ errors: [{ message, extensions: { code } }] });
  const refuse = (res: express.Response, error: GraphQLError) => {
    const http = error.extensions.http as { headers?: Map<string, string> } | undefined;
    fail(res, error.extensions.code as GatewayErrorCode, error.message, Object.fromEntries(http?.headers ?? []));
  };
  app.get('/recordings/:id', async (req, res) => {
    // The same origin rules as /graphql: a browser on an origin its application allows may download with its token.
    const origin = cors.foreignOrigin(req);
    await cors.applyTo(origin, req.socket.remoteAddress, res);
    const principal = await pipeline.authenticate(req.socket.remoteAddress, req.headers.authorization);
    if (principal instanceof GraphQLError) return refuse(res, principal);
    try {
      await pipeline.checkOrigin(principal, origin);
    } catch (error) {
      return refuse(res, error as GraphQLError);
    }
    const limited = await pipeline.admit(principal);
    if (limited) return refuse(res, limited);
    if (principal.token && !principal.token.scopes.has(AccessScope.CALLS_READ)) {
      return fail(res, CODE.FORBIDDEN, 'Recordings need an access token with the CALLS_READ scope');
    }
    try {
      const link = await links.link(principal, req.params.id);
      if (!link) return fail(res, CODE.RECORDING_NOT_FOUND, `No saved recording ${req.params.id.slice(0, 40)} is visible to this key`);
      res.set('cache-control', 'no-store').redirect(302, link);
    } catch (error) {
      if (!(error instanceof ProviderError)) throw error;
      logger.warn('recording link not available from the provider', { recordingId: req.params.id, error: error.message });
      fail(res, CODE.PROVIDER_ERROR, `The provider could not give the recording's file: ${error.message}`);
    }
  });
}
