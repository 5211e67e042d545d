import { registerEnumType } from 'type-graphql';
import { CallDirection, CallStatus, Channel } from '../../domain/call.js';
import { UserErrorCode } from '../../domain/errors.js';

export enum OrderDirection {
  ASC = 'ASC',
  DESC = 'DESC',
}

export enum CallOrderField {
  CREATED_AT = 'CREATED_AT',
}

registerEnumType(Channel, {
  name: 'Channel',
  description: 'The network a leg of a call runs on.',
  valuesConfig: {
    PSTN: { description: 'The public telephone network; addresses are E.164 numbers.' },
    WEBRTC: { description: 'A browser or app client in a LiveKit room; addresses are client identities.' },
    WHATSAPP: { description: 'WhatsApp voice; addresses are E.164 numbers.' },
  },
});

registerEnumType(CallDirection, {
  name: 'CallDirection',
  description: 'Who placed the call.',
  valuesConfig: {
    OUTBOUND: { description: 'Placed by the application (createCall).' },
    INBOUND: { description: 'Received on one of the application\'s numbers or identities.' },
  },
});

registerEnumType(CallStatus, {
  name: 'CallStatus',
  description:
    'Where a call is in its lifecycle. Status only moves forward: INITIATED < RINGING < IN_PROGRESS < VOICEMAIL < a terminal status (COMPLETED, FAILED, BUSY, NO_ANSWER, CANCELED).',
  valuesConfig: {
    INITIATED: { description: 'Accepted and being placed.' },
    RINGING: { description: 'The destination is ringing.' },
    IN_PROGRESS: { description: 'Answered; the parties are connected.' },
    VOICEMAIL: { description: 'A voicemail box answered and a message is being left.' },
    COMPLETED: { description: 'Ended normally after being answered (terminal).' },
    FAILED: { description: 'Could not be placed or dropped by an error (terminal).' },
    BUSY: { description: 'The destination was busy (terminal).' },
    NO_ANSWER: { description: 'Rang without being answered (terminal).' },
    CANCELED: { description: 'Ended by the caller before it was answered (terminal).' },
  },
});

registerEnumType(UserErrorCode, {
  name: 'UserErrorCode',
  description: 'Why an expected business failure happened; nothing was changed when one is returned.',
  valuesConfig: {
    INVALID_PHONE_NUMBER: { description: 'Not a possible E.164 number for a PSTN or WhatsApp leg.' },
    PHONE_NUMBER_NOT_ASSIGNED: { description: '`from` is not a number assigned to this application.' },
    INVALID_ADDRESS: { description: 'Not a valid WebRTC client identity.' },
    INVALID_METADATA: { description: 'metadata is not a JSON object, is over 16 KB serialized, or holds a NUL character.' },
    IDEMPOTENCY_KEY_REUSED: { description: 'The idempotency key was used within 24 h with different input.' },
    INVALID_IDEMPOTENCY_KEY: { description: 'The idempotency key is empty, over 255 characters, or has control characters.' },
    CALL_NOT_FOUND: { description: 'No call with this id is visible to this key.' },
    CALL_NOT_ACTIVE: { description: 'The call has already ended.' },
    COMMAND_NOT_ALLOWED: { description: 'The command does not apply to the call in its current state or direction.' },
    PROVIDER_NOT_CONFIGURED: { description: 'No provider is configured for this channel in this mode.' },
    PROVIDER_ERROR: { description: 'The channel provider refused or failed the request.' },
    RATE_LIMITED: { description: 'Too many requests for this API key; retry later.' },
  },
});

registerEnumType(OrderDirection, {
  name: 'OrderDirection',
  description: 'Sort direction.',
  valuesConfig: { ASC: { description: 'Oldest first.' }, DESC: { description: 'Newest first.' } },
});

registerEnumType(CallOrderField, {
  name: 'CallOrderField',
  description: 'Fields calls can be ordered by.',
  valuesConfig: { CREATED_AT: { description: 'When the call was created; ties are broken by id.' } },
});
