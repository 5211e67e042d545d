import { Channel, type Call } from './call.js';
import type { Principal } from './authenticator.js';
import { LEG_IDENTITY_REFUSED, isLegIdentity } from './access-tokens.js';
import type { CallStore } from './call-store.js';
import { validateAddress } from './addresses.js';
import { UserErrorCode, userError, type UserError } from './errors.js';
import { looksLikeCallId } from './ids.js';
import { isTerminal } from './call-status-rules.js';

/** Issues join tokens for a call's LiveKit room (createCallToken). Implemented with livekit-server-sdk. */
export interface CallTokenIssuer {
  issue(request: {
    roomName: string;
    identity: string;
    name: string | null;
    ttlSeconds: number;
  }): Promise<{ token: string; expiresAt: Date; serverUrl: string }>;
}

const MIN_TOKEN_TTL_SECONDS = 60;
const MAX_TOKEN_TTL_SECONDS = 86_400;
const DEFAULT_TOKEN_TTL_SECONDS = 3_600;

export interface CallTokenInput {
  callId: string;
  participantIdentity: string;
  participantName?: string | null;
  ttl?: number | null;
}

export type CallTokenResult =
  | { token: string; expiresAt: Date; roomName: string; serverUrl: string; userErrors: [] }
  | { token: null; expiresAt: null; roomName: null; serverUrl: null; userErrors: UserError[] };

/**
 * A join token for one call's room, like the platform's POST /v1/calls/token: only for a call
 * the key can see, that has a room and has not ended; the token grants that room only. Test
 * keys get tokens from a sandbox server only (the issuer given for their mode), never the live one.
 *
 * Every call but PSTN → PSTN has a room (`roomName`), also those without a WebRTC leg, whose
 * `livekitRoomName` the platform leaves null: the application's agent or browser joins there to
 * take the caller's side. An access-token holder joins as the identity its token was minted with,
 * or, without one, as anybody but the call's own parties: taking the callee's identity would
 * answer the call as someone else.
 */
export class CallTokens {
  constructor(
    private readonly calls: CallStore,
    private readonly issuer: CallTokenIssuer | null,
    readonly principal: Principal,
  ) {}

  async create(input: CallTokenInput): Promise<CallTokenResult> {
    const errors: UserError[] = [];
    const identity = validateAddress(input.participantIdentity, Channel.WEBRTC, ['input', 'participantIdentity']);
    if (identity) errors.push(identity);
    const name = input.participantName ?? null;
    if (name !== null && (name.length < 1 || name.length > 128 || /[\u0000-\u001f]/.test(name))) {
      errors.push(userError(UserErrorCode.INVALID_ARGUMENT, ['input', 'participantName'], 'participantName is 1 to 128 characters with no control characters'));
    }
    const ttl = input.ttl ?? DEFAULT_TOKEN_TTL_SECONDS;
    if (!Number.isInteger(ttl) || ttl < MIN_TOKEN_TTL_SECONDS || ttl > MAX_TOKEN_TTL_SECONDS) {
      errors.push(
        userError(
          UserErrorCode.INVALID_ARGUMENT,
          ['input', 'ttl'],
          `ttl must be from ${MIN_TOKEN_TTL_SECONDS} to ${MAX_TOKEN_TTL_SECONDS} seconds, got ${ttl}`,
        ),
      );
    }
    if (!identity) {
      const notAllowed = this.identityProblem(input.participantIdentity);
      if (notAllowed) errors.push(userError(UserErrorCode.IDENTITY_NOT_ALLOWED, ['input', 'participantIdentity'], notAllowed));
    }
    if (errors.length) return refused(errors);
    const call = looksLikeCallId(input.callId) ? await this.calls.findById(this.principal, input.callId) : null;
    if (!call) return refused([userError(UserErrorCode.CALL_NOT_FOUND, ['input', 'callId'], `No call ${input.callId.slice(0, 40)} is visible to this key`)]);
    if (isTerminal(call.status))
      return refused([userError(UserErrorCode.CALL_NOT_ACTIVE, ['input', 'callId'], `The call has ended (${call.status.toUpperCase()})`)]);
    if (!call.roomName) {
      return refused([userError(UserErrorCode.COMMAND_NOT_ALLOWED, ['input', 'callId'], 'A call between two PSTN numbers has no LiveKit room to join')]);
    }
    if (this.principal.token && !this.principal.token.participantIdentity && partyIdentities(call).includes(input.participantIdentity)) {
      return refused([
        userError(
          UserErrorCode.IDENTITY_NOT_ALLOWED,
          ['input', 'participantIdentity'],
          "A party of the call: an access token joins as the call's party only when it was minted with that participantIdentity",
        ),
      ]);
    }
    if (!this.issuer) {
      return refused([
        userError(
          UserErrorCode.PROVIDER_NOT_CONFIGURED,
          ['input', 'callId'],
          this.principal.mode === 'test'
            ? 'Test calls are simulated and never reach the live LiveKit server: a token for a test call needs a sandbox LiveKit server (LIVEKIT_SANDBOX_URL), which is not configured'
            : 'LiveKit is not configured in this gateway (LIVEKIT_URL)',
        ),
      ]);
    }
    const issued = await this.issuer.issue({ roomName: call.roomName, identity: input.participantIdentity, name, ttlSeconds: ttl });
    return { ...issued, roomName: call.roomName, userErrors: [] };
  }

  /** Why this caller may not take `identity` whatever the call; null: it may (a secret key may take any). */
  private identityProblem(identity: string): string | null {
    const token = this.principal.token;
    if (!token) return null;
    if (token.participantIdentity !== null) {
      return identity === token.participantIdentity ? null : 'This access token joins rooms only as the participantIdentity it was minted with';
    }
    return isLegIdentity(identity) ? LEG_IDENTITY_REFUSED : null;
  }
}

/** The identities of the call's WebRTC parties, the callee it was transferred to included. */
function partyIdentities(call: Call): string[] {
  const parties: [Channel | null, string | null][] = [
    [call.fromChannel, call.fromAddress],
    [call.toChannel, call.toAddress],
    [call.transferredToChannel, call.transferredTo],
  ];
  return parties.flatMap(([channel, address]) => (channel === Channel.WEBRTC && address ? [address] : []));
}

function refused(userErrors: UserError[]): CallTokenResult {
  return { token: null, expiresAt: null, roomName: null, serverUrl: null, userErrors };
}
