import { createHash, randomUUID } from 'node:crypto';
import { AccessToken, TokenVerifier, type ClaimGrants } from 'livekit-server-sdk';
import { HttpFake, type FakeResponse, type RecordedRequest } from './http-fake.js';

/** What each Twirp method needs in the token's grants (as LiveKit's server checks them). */
const NEEDS: Record<string, (claims: ClaimGrants) => boolean> = {
  'RoomService/CreateRoom': (c) => !!c.video?.roomCreate,
  'RoomService/DeleteRoom': (c) => !!c.video?.roomCreate,
  'RoomService/GetParticipant': (c) => !!c.video?.roomAdmin,
  'RoomService/MutePublishedTrack': (c) => !!c.video?.roomAdmin,
  'RoomService/UpdateParticipant': (c) => !!c.video?.roomAdmin,
  'RoomService/RemoveParticipant': (c) => !!c.video?.roomAdmin,
  'Egress/StartRoomCompositeEgress': (c) => !!c.video?.roomRecord,
  'Egress/ListEgress': (c) => !!c.video?.roomRecord,
  'Egress/StopEgress': (c) => !!c.video?.roomRecord,
  'SIP/CreateSIPParticipant': (c) => !!c.sip?.call,
  'SIP/CreateSIPDispatchRule': (c) => !!c.sip?.admin,
  'SIP/ListSIPDispatchRule': (c) => !!c.sip?.admin,
  'SIP/DeleteSIPDispatchRule': (c) => !!c.sip?.admin,
  'Connector/DialWhatsAppCall': (c) => !!c.video?.roomCreate,
  'Connector/AcceptWhatsAppCall': (c) => !!c.video?.roomCreate,
  'Connector/ConnectWhatsAppCall': (c) => !!c.video?.roomCreate,
  'Connector/DisconnectWhatsAppCall': (c) => !!c.video?.roomCreate,
};

/**
 * Speaks LiveKit's server API as livekit-server-sdk uses it: Twirp over HTTP with JSON bodies
 * (POST /twirp/livekit.<Service>/<Method>), `Authorization: Bearer <JWT>` signed with the API
 * secret and carrying the grants the method needs (verified here with the SDK's TokenVerifier).
 * It keeps rooms, participants and egresses, and sends webhooks signed as LiveKit's server signs
 * them (a JWT from the API key whose `sha256` claim is the body's hash).
 */
export class FakeLiveKit extends HttpFake {
  readonly apiKey = `API${randomUUID().slice(0, 8)}`;
  readonly apiSecret = randomUUID() + randomUUID();
  readonly sipTrunkId = 'ST_telnyxOutbound';
  readonly rooms = new Map<
    string,
    Map<string, { sid: string; identity: string; tracks: { sid: string; type: string; muted: boolean }[]; permission?: unknown }>
  >();
  readonly egresses = new Map<string, { egressId: string; roomName: string; active: boolean }>();
  /** The inbound trunk its SIP service takes Telnyx's INVITEs on (LIVEKIT_SIP_INBOUND_TRUNK_ID in the tests). */
  readonly sipInboundTrunkId = 'ST_fromTelnyx';
  /** The host of its SIP service for inbound calls (LIVEKIT_SIP_URI's). */
  readonly sipHost = 'sip.livekit.test';
  /** Dispatch rules as CreateSIPDispatchRule stored them (the Twirp JSON body, with an id). */
  readonly dispatchRules: {
    sipDispatchRuleId: string;
    name?: string;
    trunkIds?: string[];
    rule: Record<string, { roomPrefix?: string; randomize?: boolean }>;
  }[] = [];
  /** Attributes of participants, by room and identity (SIP participants carry sip.* ones). */
  readonly attributes = new Map<string, Record<string, string>>();
  private readonly verifier: TokenVerifier;
  private seq = 0;

  constructor() {
    super((request) => this.answer(request));
    this.verifier = new TokenVerifier(this.apiKey, this.apiSecret);
  }

  env(extra: Record<string, string> = {}): Record<string, string> {
    return { LIVEKIT_URL: this.url, LIVEKIT_API_KEY: this.apiKey, LIVEKIT_API_SECRET: this.apiSecret, LIVEKIT_SIP_TRUNK_ID: this.sipTrunkId, ...extra };
  }

  /** A participant joins a room with an audio track (what a client or a SIP/WhatsApp bridge does). */
  join(room: string, identity: string): void {
    const participants = this.rooms.get(room) ?? new Map();
    this.rooms.set(room, participants);
    participants.set(identity, { sid: `PA_${++this.seq}`, identity, tracks: [{ sid: `TR_${++this.seq}`, type: 'AUDIO', muted: false }] });
  }

  /**
   * An INVITE reaching LiveKit's SIP service for an inbound call (what Telnyx's transfer to
   * `sip:<user>@<sipHost>` sends): as LiveKit does, a callee dispatch rule picks the room (its
   * roomPrefix + the called user), and the caller joins it as a SIP participant named
   * `sip_<caller number>`, with sip.* attributes. No matching rule: refused, as LiveKit refuses it.
   * Returns the room and the participant's identity.
   */
  sipInvite(uri: string, fromNumber: string, trunkId = this.sipInboundTrunkId): { room: string; identity: string } {
    const match = /^sip:([^@]+)@(.+)$/.exec(uri);
    if (!match || match[2] !== this.sipHost) throw new Error(`${uri} is not this LiveKit's SIP address`);
    // A rule applies to the trunks it names (none named: every trunk), as LiveKit's do.
    const rule = this.dispatchRules.find(
      (candidate) => candidate.rule.dispatchRuleCallee && (!candidate.trunkIds?.length || candidate.trunkIds.includes(trunkId)),
    );
    if (!rule) throw new Error('no dispatch rule matches the call (SIP 404)');
    const { roomPrefix = '', randomize = false } = rule.rule.dispatchRuleCallee!;
    if (randomize) throw new Error("a randomized room name would not be the call's room");
    const room = `${roomPrefix}${match[1]}`;
    const identity = `sip_${fromNumber}`;
    this.join(room, identity);
    this.attributes.set(`${room}/${identity}`, { 'sip.callStatus': 'active', 'sip.phoneNumber': fromNumber, 'sip.trunkPhoneNumber': match[1]! });
    return { room, identity };
  }

  private async answer(request: RecordedRequest): Promise<FakeResponse> {
    const method = request.path.replace(/^\/twirp\/livekit\./, '');
    const auth = String(request.headers.authorization ?? '');
    let claims: ClaimGrants;
    try {
      claims = await this.verifier.verify(auth.replace(/^Bearer /, ''));
    } catch {
      return twirpError(401, 'unauthenticated', 'invalid token');
    }
    if (!NEEDS[method]) return twirpError(404, 'bad_route', `no handler for ${request.path}`);
    if (!NEEDS[method]!(claims)) return twirpError(403, 'permission_denied', `permissions denied for ${method}`);
    const body = request.body ?? {};
    const participantsOf = (room: string) => this.rooms.get(room);
    switch (method) {
      case 'RoomService/CreateRoom':
        if (!this.rooms.has(body.name)) this.rooms.set(body.name, new Map());
        return ok({
          sid: `RM_${++this.seq}`,
          name: body.name,
          emptyTimeout: body.emptyTimeout,
          departureTimeout: body.departureTimeout,
          metadata: body.metadata,
        });
      case 'RoomService/DeleteRoom':
        this.rooms.delete(body.room);
        return ok({});
      case 'RoomService/GetParticipant':
      case 'RoomService/UpdateParticipant': {
        const participant = participantsOf(body.room)?.get(body.identity);
        if (!participant) return twirpError(404, 'not_found', 'participant does not exist');
        if (body.permission) participant.permission = body.permission;
        return ok({
          sid: participant.sid,
          identity: participant.identity,
          state: 'ACTIVE',
          tracks: participant.tracks.map((t) => ({ sid: t.sid, type: t.type, muted: t.muted })),
        });
      }
      case 'RoomService/MutePublishedTrack': {
        const track = participantsOf(body.room)
          ?.get(body.identity)
          ?.tracks.find((t) => t.sid === body.trackSid);
        if (!track) return twirpError(404, 'not_found', 'track not found');
        track.muted = !!body.muted;
        return ok({ track: { sid: track.sid, type: track.type, muted: track.muted } });
      }
      case 'RoomService/RemoveParticipant':
        if (!participantsOf(body.room)?.delete(body.identity)) return twirpError(404, 'not_found', 'participant does not exist');
        return ok({});
      case 'Egress/StartRoomCompositeEgress': {
        const egressId = `EG_${++this.seq}`;
        this.egresses.set(egressId, { egressId, roomName: body.roomName, active: true });
        return ok({ egressId, roomName: body.roomName, status: 'EGRESS_STARTING' });
      }
      case 'Egress/ListEgress':
        return ok({
          items: [...this.egresses.values()]
            .filter((e) => e.roomName === body.roomName && (!body.active || e.active))
            .map((e) => ({ egressId: e.egressId, roomName: e.roomName, status: 'EGRESS_ACTIVE' })),
        });
      case 'Egress/StopEgress': {
        const egress = this.egresses.get(body.egressId);
        if (!egress) return twirpError(404, 'not_found', 'egress does not exist');
        egress.active = false;
        return ok({ egressId: egress.egressId, roomName: egress.roomName, status: 'EGRESS_ENDING' });
      }
      case 'SIP/CreateSIPParticipant':
        return ok({
          participantId: `PA_${++this.seq}`,
          participantIdentity: body.participantIdentity,
          roomName: body.roomName,
          sipCallId: `SCL_${++this.seq}`,
        });
      case 'SIP/CreateSIPDispatchRule': {
        const info = { sipDispatchRuleId: `SDR_${++this.seq}`, name: body.name, trunkIds: body.trunkIds, rule: body.rule ?? {} };
        this.dispatchRules.push(info);
        return ok(info);
      }
      case 'SIP/ListSIPDispatchRule':
        return ok({ items: this.dispatchRules });
      case 'SIP/DeleteSIPDispatchRule': {
        const at = this.dispatchRules.findIndex((rule) => rule.sipDispatchRuleId === body.sipDispatchRuleId);
        if (at < 0) return { status: 404, body: { code: 'not_found', msg: 'dispatch rule not found' } };
        return ok(this.dispatchRules.splice(at, 1)[0]);
      }
      case 'Connector/DialWhatsAppCall':
        return ok({ whatsappCallId: `wacid.${++this.seq}`, roomName: body.roomName });
      case 'Connector/AcceptWhatsAppCall':
        return ok({ roomName: body.roomName });
      default:
        return ok({});
    }
  }

  /** Sends a webhook signed as LiveKit's server does; returns the HTTP status. */
  async send(webhookUrl: string, event: Record<string, unknown>, sign: { key?: string; secret?: string; tamper?: boolean } = {}): Promise<number> {
    const body = JSON.stringify({ id: `EV_${++this.seq}`, createdAt: String(Math.floor(Date.now() / 1000)), ...event });
    const token = new AccessToken(sign.key ?? this.apiKey, sign.secret ?? this.apiSecret);
    token.sha256 = createHash('sha256').update(body).digest('base64');
    const jwt = await token.toJwt();
    const sent = sign.tamper ? body.replace('"event":"', '"event":"x') : body;
    const response = await fetch(webhookUrl, { method: 'POST', headers: { 'content-type': 'application/webhook+json', authorization: jwt }, body: sent });
    return response.status;
  }
}

function ok(body: unknown): FakeResponse {
  return { status: 200, body };
}

function twirpError(status: number, code: string, msg: string): FakeResponse {
  return { status, body: { code, msg } };
}
