/**
 * The README's example: place a test call and follow it live with the typed client.
 * Type-checked by `npm run typecheck` (so it cannot drift from the schema) and run by
 * test/client.test.ts against a real gateway.
 */
import WebSocket from 'ws';
import { CallStatusDocument, CreateCallDocument, createCallsClient, type CallStatus } from '../packages/client/src/index.js';

export async function placeAndFollow(url: string, apiKey: string, from: string): Promise<CallStatus[]> {
  const client = createCallsClient({ url, apiKey, webSocketImpl: WebSocket });
  try {
    const { createCall } = await client.request(CreateCallDocument, { input: { from, to: '+15005550001', metadata: { orderId: 'A-17' } } });
    if (!createCall.call) throw new Error(createCall.userErrors.map((error) => `${error.code}: ${error.message}`).join('; '));
    const statuses: CallStatus[] = [];
    // Without `after` and with callId, the first event is the call's current state.
    for await (const { callStatus } of client.subscribe(CallStatusDocument, { callId: createCall.call.id })) {
      statuses.push(callStatus.status);
      if (['COMPLETED', 'FAILED', 'BUSY', 'NO_ANSWER', 'CANCELED'].includes(callStatus.status)) break;
    }
    return statuses;
  } finally {
    await client.close();
  }
}
