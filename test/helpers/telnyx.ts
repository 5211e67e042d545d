import { expect } from 'vitest';
import { FakeTelnyx } from '../fakes/telnyx-server.js';
import { CallStateDocument, CreateCallDocument } from '../gql/graphql.js';
import { bootGateway, eventually, gql, newApp, type TestApp, type TestGateway } from './gateway.js';

export const PUBLIC_URL = 'https://gateway.example.test';

export const b64 = (id: string): string => Buffer.from(id).toString('base64');
export const esc = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export interface Dialed {
  id: string;
  ccid: string;
  /** Sends a signed callback about this call's leg, as Telnyx does (our client_state included). */
  send(type: string, payload?: Record<string, unknown>): Promise<number>;
}

/**
 * A gateway configured for Telnyx against a FakeTelnyx of its own, an application with a live
 * key and a number, and the moves a live PSTN test makes through the public API.
 */
export class TelnyxHarness {
  private constructor(
    readonly telnyx: FakeTelnyx,
    readonly gw: TestGateway,
    readonly app: TestApp,
  ) {}

  static async start(env: Record<string, string> = {}): Promise<TelnyxHarness> {
    const telnyx = await new FakeTelnyx().start();
    const gw = await bootGateway({ env: { ...telnyx.env(PUBLIC_URL), ...env } });
    return new TelnyxHarness(telnyx, gw, await newApp(gw.admin));
  }

  /** Where Telnyx posts its callbacks: the gateway's /webhooks/telnyx. */
  get hook(): string {
    return this.gw.url.replace(/\/graphql$/, '/webhooks/telnyx');
  }

  async state(id: string) {
    return (await gql(this.gw.url, this.app.liveKey, CallStateDocument, { id })).data!.call!;
  }

  async until(id: string, status: string) {
    let call = await this.state(id);
    await eventually(async () => (call = await this.state(id)).status === status, 10_000, `call ${id} to be ${status}`);
    return call;
  }

  /** Requests the gateway sent to one Call Control action of one leg, in order. */
  action(ccid: string, name: string) {
    return this.telnyx.to(new RegExp(`/v2/calls/${esc(ccid)}/actions/${name}$`));
  }

  /** Places a live PSTN call with createCall; returns our id and Telnyx's call_control_id. */
  async dial(to = '+15551230000'): Promise<Dialed> {
    const before = this.telnyx.to(/^\/v2\/calls$/).length;
    const { data } = await gql(this.gw.url, this.app.liveKey, CreateCallDocument, { input: { from: this.app.number, to, metadata: { order: 7 } } });
    expect(data!.createCall.userErrors).toEqual([]);
    const id = data!.createCall.call!.id;
    expect(
      this.telnyx
        .to(/^\/v2\/calls$/)
        .slice(before)
        .filter((request) => request.body.client_state === b64(id)),
    ).toHaveLength(1);
    const ccid = (await this.gw.gateway.lifecycle.findCall({ callId: id }))!.providerCallId!;
    expect(ccid).toMatch(/^v3:/);
    return { id, ccid, send: (type, payload = {}) => this.telnyx.send(this.hook, type, { call_control_id: ccid, client_state: b64(id), ...payload }) };
  }

  /** A dialed call that Telnyx reports initiated and answered: IN_PROGRESS. */
  async answered(to?: string): Promise<Dialed> {
    const call = await this.dial(to);
    expect(await call.send('call.initiated', { direction: 'outgoing' })).toBe(200);
    expect(await call.send('call.answered')).toBe(200);
    await this.until(call.id, 'IN_PROGRESS');
    return call;
  }

  /** A call arriving at the app's number; resolves once it is visible and RINGING. */
  async incoming(from = '+15559990000'): Promise<{ id: string; ccid: string }> {
    const { ccid, status } = await this.telnyx.incoming(this.hook, from, this.app.number);
    expect(status).toBe(200);
    const call = (await this.gw.gateway.lifecycle.findCall({ provider: 'telnyx', providerCallId: ccid }))!;
    await this.until(call.id, 'RINGING');
    return { id: call.id, ccid };
  }

  async stop(): Promise<void> {
    await this.gw.stop();
    await this.telnyx.stop();
  }
}
