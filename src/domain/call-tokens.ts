/** Issues join tokens for a call's LiveKit room (createCallToken). Implemented with livekit-server-sdk. */
export interface CallTokenIssuer {
  issue(request: { roomName: string; identity: string; name: string | null; ttlSeconds: number }): Promise<{ token: string; expiresAt: Date; serverUrl: string }>;
}
