import { SipClient, type SIPDispatchRuleInfo } from 'livekit-server-sdk';
import type { Call } from '../../domain/call.js';
import type { CallCommand, CommandArgs } from '../../domain/command-rules.js';
import type { CommandResult } from '../../domain/channel-provider.js';
import type { LiveKitConfig } from '../../config/providers.js';
import type { RoomBridge } from '../room-leg.js';
import { livekit } from './livekit-errors.js';
import { calleeIdentity } from './legs.js';
import type { LiveKitProvider, RoomParties } from './livekit-provider.js';

/** The name of the one dispatch rule the gateway keeps on LiveKit (found by it, created when missing). */
const DISPATCH_RULE_NAME = 'calls-gateway: room = called SIP user (the call id)';

/**
 * An inbound PSTN call on Telnyx taken by a browser: Telnyx transfers the call (Call Control
 * `transfer`) to `sip:<call id>@<LIVEKIT_SIP_URI host>`; LiveKit's SIP service takes the INVITE on
 * its inbound trunk, and a callee dispatch rule (room = prefix "" + the called user) puts the
 * caller into the room named after the call, which the gateway created first, so the room has the
 * gateway's settings. The WebRTC identity joins with a createCallToken token.
 *
 * The caller is then a SIP participant whose identity LiveKit gives as `sip_<caller number>`
 * (the `from` the transfer presents): commands on the room's parties (mute, hold, recording,
 * transfer to another identity) act there; hangup stays with Telnyx, which carries the call.
 * Written here, not taken from a library: it is the glue between our two SDKs.
 */
export class SipRoomBridge implements RoomBridge {
  private readonly sip: SipClient;
  private rule: Promise<void> | null = null;

  constructor(
    private readonly config: LiveKitConfig & { sipInboundHost: string },
    private readonly room: LiveKitProvider,
  ) {
    this.sip = new SipClient(config.url, config.apiKey, config.apiSecret);
  }

  async open(call: Call): Promise<string> {
    await this.ensureDispatchRule();
    await this.room.openRoom(call.id, call.id);
    return `sip:${call.id}@${this.config.sipInboundHost}`;
  }

  unsupported(args: CommandArgs, call: Call): string | null {
    return this.room.unsupported(args, call);
  }

  execute(call: Call, command: CallCommand): Promise<CommandResult> {
    return this.room.executeInRoom(call, command, parties(call));
  }

  async close(call: Call): Promise<void> {
    if (call.roomName) await this.room.closeRoom(call.roomName);
  }

  /**
   * Once per process (again after a failure): the callee rule that names rooms after the called SIP
   * user, on the inbound trunk. A rule of the gateway's name is kept only if it is exactly that
   * (callee, no room prefix, not randomized, the same trunks): one left by another configuration
   * (another trunk, a prefix) would put callers in rooms the gateway never made, so it is deleted
   * and the rule made again.
   */
  private ensureDispatchRule(): Promise<void> {
    this.rule ??= (async () => {
      const trunkIds = this.config.sipInboundTrunkId ? [this.config.sipInboundTrunkId] : [];
      const ours = (await livekit(() => this.sip.listSipDispatchRule())).filter((rule) => rule.name === DISPATCH_RULE_NAME);
      const keep = ours.find((rule) => isTheRule(rule, trunkIds));
      for (const stale of ours) {
        if (stale !== keep) await livekit(() => this.sip.deleteSipDispatchRule(stale.sipDispatchRuleId));
      }
      if (keep) return;
      await livekit(() => this.sip.createSipDispatchRule({ type: 'callee', roomPrefix: '', randomize: false }, { name: DISPATCH_RULE_NAME, trunkIds }));
    })().catch((error: unknown) => {
      this.rule = null;
      throw error;
    });
    return this.rule;
  }
}

/** Whether `rule` routes a call to the room named after its called user, on exactly `trunkIds`. */
function isTheRule(rule: SIPDispatchRuleInfo, trunkIds: string[]): boolean {
  const dispatch = rule.rule?.rule;
  if (dispatch?.case !== 'dispatchRuleCallee' || dispatch.value.roomPrefix !== '' || dispatch.value.randomize) return false;
  return rule.trunkIds.length === trunkIds.length && trunkIds.every((id) => rule.trunkIds.includes(id));
}

/**
 * LiveKit names an inbound SIP participant `sip_` + the caller's number (its SIP From user). Only
 * inbound calls are bridged (transferCall and number routing both), so hold applies to the caller.
 */
function parties(call: Call): RoomParties {
  const caller = `sip_${call.fromAddress}`;
  return { from: caller, to: calleeIdentity(call), held: caller };
}
