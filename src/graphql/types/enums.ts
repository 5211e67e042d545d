import { registerEnumType } from 'type-graphql';
import { AnsweredBy, CallDirection, CallEventKind, CallLeg, CallStatus, Channel, EndReason, HangupSource, MachineDetection } from '../../domain/call.js';
import { CallCommandStatus, CallCommandType, RecordingFormat, RecordingKind, RecordingStatus, RejectReason } from '../../domain/command-rules.js';
import { UserErrorCode } from '../../domain/errors.js';
import { AccessScope } from '../../domain/access-tokens.js';
import { CallOrderField } from '../../domain/call-store.js';
import { USER_ERRORS } from '../error-codes.js';

export enum OrderDirection {
  ASC = 'ASC',
  DESC = 'DESC',
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

// CallEndReason is the domain's EndReason: upper-case GraphQL names (NO_ANSWER), as every other enum
// has them, over the lower-case values the database, the filters and the webhooks keep (no_answer).
registerEnumType(EndReason, {
  name: 'CallEndReason',
  description: 'Why a call ended. Upper case here, as every GraphQL enum; webhook payloads carry the platform\'s lower-case form (NO_ANSWER is "no_answer").',
  valuesConfig: {
    HANGUP: { description: 'A party hung up (after answer: COMPLETED; the caller before answer: CANCELED).' },
    BUSY: { description: 'The called line was busy (BUSY).' },
    REJECTED: {
      description:
        'The called party declined (BUSY): rejectCall DECLINED, hangupCall on a ringing inbound call, a declined WhatsApp call, Telnyx call_rejected.',
    },
    NO_ANSWER: { description: 'Nobody answered before the ring timeout (NO_ANSWER).' },
    CANCELED: { description: 'Canceled before answer with no more precise reason (CANCELED).' },
    VOICEMAIL: { description: 'A voicemail box took the call, which then ended (COMPLETED).' },
    FAILED: { description: 'The call could not be connected (FAILED).' },
    NOT_FOUND: { description: 'The number does not exist (FAILED; Telnyx not_found).' },
    PROVIDER_TIMEOUT: { description: 'The provider gave no news within CALL_SETUP_TIMEOUT_MS (FAILED).' },
    PROVIDER_ERROR: { description: 'The provider refused to place the call (FAILED).' },
    TIME_LIMIT: { description: "The call reached its time limit (COMPLETED): Telnyx time_limit, or createCall's timeLimit." },
  },
});

registerEnumType(MachineDetection, {
  name: 'MachineDetection',
  description:
    "Answering-machine detection (createCall's machineDetection), with its result in Call.answeredBy. Carried out by Telnyx (answering_machine_detection) and the simulator; calls in a LiveKit room refuse it (LiveKit has none).",
  valuesConfig: {
    OFF: { description: 'No detection: a voicemail box that answers is IN_PROGRESS like a person.' },
    DETECT: { description: 'Detect: a machine makes the call VOICEMAIL (Telnyx "detect").' },
    DETECT_BEEP: { description: 'Detect, and for a machine wait for the end of its greeting (the beep) before VOICEMAIL (Telnyx "detect_beep").' },
  },
});

registerEnumType(AnsweredBy, {
  name: 'AnsweredBy',
  description: 'What answered a call, when machine detection ran.',
  valuesConfig: {
    HUMAN: { description: 'A person.' },
    MACHINE: { description: 'An answering machine or voicemail box.' },
    FAX: { description: 'A fax machine.' },
    UNKNOWN: { description: 'Detection ran and could not tell.' },
  },
});

registerEnumType(HangupSource, {
  name: 'HangupSource',
  description: 'Who ended a call. Telnyx says caller or callee; LiveKit, which participant left; the simulator, its scenario; commands are API.',
  valuesConfig: {
    CALLER: { description: 'The calling party (from).' },
    CALLEE: { description: 'The called party (to): it hung up, was busy or declined.' },
    API: { description: 'The application, with a command (hangupCall, rejectCall, sendToVoicemail).' },
    SYSTEM: { description: 'The network or the gateway: a ring timeout, a time limit, a failure.' },
  },
});

registerEnumType(CallDirection, {
  name: 'CallDirection',
  description: 'Who placed the call.',
  valuesConfig: {
    OUTBOUND: { description: 'Placed by the application (createCall).' },
    INBOUND: { description: "Received on one of the application's numbers or identities." },
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
    BUSY: { description: 'The called side was busy or declined the call: endReason BUSY or REJECTED (terminal).' },
    NO_ANSWER: { description: 'Rang without being answered (terminal).' },
    CANCELED: { description: 'Ended by the calling side before it was answered: the caller hung up, or hangupCall on an outbound call (terminal).' },
  },
});

registerEnumType(UserErrorCode, {
  name: 'UserErrorCode',
  description: 'Why an expected business failure happened; nothing was changed when one is returned.',
  // The meanings live in the error catalogue (graphql/error-codes.ts), with docs/errors.md.
  valuesConfig: Object.fromEntries(Object.entries(USER_ERRORS).map(([code, meaning]) => [code, { description: meaning }])),
});

registerEnumType(AccessScope, {
  name: 'AccessScope',
  description: 'What an access token lets a browser do. Everything else (webhooks, numbers, the simulator, access tokens) needs the secret key.',
  valuesConfig: {
    CALLS_READ: { description: "call, node, calls and callStats, within the token's filter." },
    STATUS_SUBSCRIBE: {
      description: "callStatus, live and replayed, within the token's filter (a call's commands, recordings and events need CALLS_READ too).",
    },
    CALLS_CREATE: { description: "createCall, for calls the token's filter matches (e.g. carrying its metadata)." },
    CALLS_COMMAND: {
      description: "Commands on calls within the token's filter: answer, reject, hangup, hold, mute, DTMF, recording, transfer, voicemail, createCallToken.",
    },
  },
});

registerEnumType(OrderDirection, {
  name: 'OrderDirection',
  description: 'Sort direction.',
  valuesConfig: { ASC: { description: 'Oldest first.' }, DESC: { description: 'Newest first.' } },
});

registerEnumType(CallOrderField, {
  name: 'CallOrderField',
  description:
    'Fields calls can be ordered by; ties are broken by id. Each has an index, and cursors of one order are refused in another. ' +
    'An order by a field that may be null lists only the calls that have it.',
  valuesConfig: {
    CREATED_AT: { description: 'When the call was created: every call.' },
    STARTED_AT: { description: 'When the destination first rang: calls that rang.' },
    ENDED_AT: { description: 'When the call ended: ended calls.' },
    DURATION: { description: 'Seconds from answer to end: ended calls (0 for those never answered).' },
  },
});

registerEnumType(CallCommandType, {
  name: 'CallCommandType',
  description: 'What a call command does; each is one mutation.',
  valuesConfig: {
    ANSWER: { description: 'answerCall: answer a ringing inbound call.' },
    REJECT: { description: 'rejectCall: refuse a ringing inbound call.' },
    HANGUP: { description: 'hangupCall: end the call (before answer CANCELED if outbound, BUSY "rejected" if inbound; COMPLETED after).' },
    HOLD: { description: 'holdCall: put the call on hold, with optional music.' },
    UNHOLD: { description: 'unholdCall: take the call off hold.' },
    MUTE: { description: 'muteCall: mute one leg.' },
    UNMUTE: { description: 'unmuteCall: unmute one leg.' },
    TRANSFER: { description: 'transferCall: hand the call to another address.' },
    SEND_DTMF: { description: 'sendDtmf: play DTMF tones to the call.' },
    START_RECORDING: { description: 'startRecording: record the call.' },
    STOP_RECORDING: { description: 'stopRecording: stop recording; the provider then saves the file.' },
    SEND_TO_VOICEMAIL: { description: 'sendToVoicemail: send the call to voicemail.' },
  },
});

registerEnumType(CallCommandStatus, {
  name: 'CallCommandStatus',
  description: 'Where a command is: ACCEPTED → APPLIED, or FAILED.',
  valuesConfig: {
    ACCEPTED: { description: 'Stored and sent to the provider; its effect is not on the call yet.' },
    QUEUED: { description: 'Waiting behind another command (reserved: this gateway sends every command at once).' },
    APPLIED: { description: 'The provider confirmed it; its effect is on the call and in callStatus.' },
    FAILED: { description: 'The provider refused it, or the call ended first; see error.' },
  },
});

registerEnumType(RecordingKind, {
  name: 'RecordingKind',
  description: 'Why a recording exists.',
  valuesConfig: {
    CALL: { description: 'startRecording: the conversation.' },
    VOICEMAIL: { description: 'sendToVoicemail: the message the caller left after the greeting and the beep.' },
  },
});

registerEnumType(RecordingFormat, {
  name: 'RecordingFormat',
  description: 'Container of a recording file. Which a call can use depends on where its media flows (see StartRecordingInput.format).',
  valuesConfig: {
    MP4: { description: 'MPEG-4 (AAC audio). Calls in a LiveKit room.' },
    OGG: { description: 'Ogg (Opus audio). Calls in a LiveKit room (their default).' },
    WEBM: { description: 'WebM. Recorded by no provider today: refused.' },
    MP3: { description: 'MP3. PSTN to PSTN calls (Telnyx Call Control, their default) and calls in a LiveKit room.' },
    WAV: { description: 'WAV. PSTN to PSTN calls (Telnyx Call Control).' },
  },
});

registerEnumType(CallLeg, {
  name: 'CallLeg',
  description: 'A side of a call.',
  valuesConfig: { FROM: { description: 'The calling side (fromAddress).' }, TO: { description: 'The called side (toAddress).' } },
});

registerEnumType(RejectReason, {
  name: 'RejectReason',
  description: 'How a rejected inbound call ends.',
  valuesConfig: {
    BUSY: { description: 'As a busy line: the call ends BUSY (endReason BUSY).' },
    DECLINED: { description: 'Declined: the call ends BUSY (endReason REJECTED), as a call the called party declines does on every provider.' },
  },
});

registerEnumType(CallEventKind, {
  name: 'CallEventKind',
  description: "What an event of a call's timeline records.",
  valuesConfig: {
    STATUS_CHANGED: { description: 'The call moved to `status` from `previousStatus`.' },
    HELD: { description: 'The call was put on hold.' },
    UNHELD: { description: 'The call was taken off hold.' },
    MUTED: { description: 'A leg was muted (see Call.mutedLegs).' },
    UNMUTED: { description: 'A leg was unmuted.' },
    TRANSFERRED: { description: 'The call was transferred (see Call.transferredTo).' },
    RECORDING_STARTED: { description: 'A recording started.' },
    RECORDING_STOPPED: { description: 'The recording stopped; the provider is saving it.' },
    RECORDING_SAVED: { description: 'A recording was saved (or failed): see Call.recordings.' },
    COMMAND_FAILED: { description: 'A command the provider had accepted failed; see `command.error`.' },
    DTMF_SENT: { description: 'sendDtmf played `digits` to the call.' },
    DTMF_RECEIVED: {
      description:
        'A party pressed keys (`digits`): Telnyx call.dtmf.received, and simulateDtmf in test mode. Calls in a LiveKit room do not report them: LiveKit hands DTMF only to participants in the room (a SipDTMF data packet), which the gateway is not.',
    },
  },
});

registerEnumType(RecordingStatus, {
  name: 'RecordingStatus',
  description: 'Where a recording is.',
  valuesConfig: {
    RECORDING: { description: 'Being recorded now.' },
    PROCESSING: { description: 'Stopped (or the call ended); the provider is saving the file.' },
    SAVED: { description: 'Saved: url and duration are set.' },
    FAILED: { description: 'The provider could not save it.' },
  },
});
