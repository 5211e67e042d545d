import { AccessToken } from 'livekit-server-sdk';
import type { CallTokenIssuer } from '../../domain/call-tokens.js';
import type { LiveKitConfig } from '../../config/providers.js';

/** LiveKit join tokens (JWT, signed with the API secret) that grant one room only. */
export class LiveKitTokens implements CallTokenIssuer {
  constructor(private readonly config: Pick<LiveKitConfig, 'url' | 'apiKey' | 'apiSecret'>) {}

  async issue(request: {
    roomName: string;
    identity: string;
    name: string | null;
    ttlSeconds: number;
  }): Promise<{ token: string; expiresAt: Date; serverUrl: string }> {
    const token = new AccessToken(this.config.apiKey, this.config.apiSecret, {
      identity: request.identity,
      name: request.name ?? undefined,
      ttl: request.ttlSeconds,
    });
    token.addGrant({ roomJoin: true, room: request.roomName, canPublish: true, canSubscribe: true, canPublishData: true });
    const jwt = await token.toJwt();
    return {
      token: jwt,
      expiresAt: new Date(Date.now() + request.ttlSeconds * 1000),
      // Clients connect over WebSocket to the same host as the server API.
      serverUrl: this.config.url.replace(/^http/, 'ws'),
    };
  }
}
