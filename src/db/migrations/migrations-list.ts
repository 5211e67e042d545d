import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261123000000Initial } from './Migration20261123000000Initial.js';
import { Migration20261123010000EventSequencing } from './Migration20261123010000EventSequencing.js';
import { Migration20261123020000SequencerFunction } from './Migration20261123020000SequencerFunction.js';
import { Migration20261124000000CallCommands } from './Migration20261124000000CallCommands.js';
import { Migration20261124010000RecordingFormats } from './Migration20261124010000RecordingFormats.js';
import { Migration20261124020000Webhooks } from './Migration20261124020000Webhooks.js';
import { Migration20261124030000RateLimits } from './Migration20261124030000RateLimits.js';
import { Migration20261202000000WebhookLeases } from './Migration20261202000000WebhookLeases.js';
import { Migration20261202010000Retention } from './Migration20261202010000Retention.js';
import { Migration20261202020000SequencerCustomPlans } from './Migration20261202020000SequencerCustomPlans.js';
import { Migration20261202190231_TenantKeysAndKindChecks } from './Migration20261202190231_TenantKeysAndKindChecks.js';
import { Migration20261203082104_LivekitRoomNameForWebrtcOnly } from './Migration20261203082104_LivekitRoomNameForWebrtcOnly.js';
import { Migration20261203084745_RecordingKind } from './Migration20261203084745_RecordingKind.js';
import { Migration20261203133220_EndReasonsAndHangupSource } from './Migration20261203133220_EndReasonsAndHangupSource.js';
import { Migration20261203133815_ListingOrders } from './Migration20261203133815_ListingOrders.js';
import { Migration20261203134701_CallOptions } from './Migration20261203134701_CallOptions.js';
import { Migration20261203135516_EventDigits } from './Migration20261203135516_EventDigits.js';
import { Migration20261203140141_CallStatsCoveringIndex } from './Migration20261203140141_CallStatsCoveringIndex.js';
import { Migration20261203141542_StatusCallbacks } from './Migration20261203141542_StatusCallbacks.js';
import { Migration20261203142202_NumberRouting } from './Migration20261203142202_NumberRouting.js';
import { Migration20261203163505_ApplicationOrigins } from './Migration20261203163505_ApplicationOrigins.js';

/** Every migration, in order. Listed, not globbed: the same list works compiled and under tsx. */
export const migrationsList: MigrationObject[] = [
  { name: 'Migration20261123000000Initial', class: Migration20261123000000Initial },
  { name: 'Migration20261123010000EventSequencing', class: Migration20261123010000EventSequencing },
  { name: 'Migration20261123020000SequencerFunction', class: Migration20261123020000SequencerFunction },
  { name: 'Migration20261124000000CallCommands', class: Migration20261124000000CallCommands },
  { name: 'Migration20261124010000RecordingFormats', class: Migration20261124010000RecordingFormats },
  { name: 'Migration20261124020000Webhooks', class: Migration20261124020000Webhooks },
  { name: 'Migration20261124030000RateLimits', class: Migration20261124030000RateLimits },
  { name: 'Migration20261202000000WebhookLeases', class: Migration20261202000000WebhookLeases },
  { name: 'Migration20261202010000Retention', class: Migration20261202010000Retention },
  { name: 'Migration20261202020000SequencerCustomPlans', class: Migration20261202020000SequencerCustomPlans },
  { name: 'Migration20261202190231_TenantKeysAndKindChecks', class: Migration20261202190231_TenantKeysAndKindChecks },
  { name: 'Migration20261203082104_LivekitRoomNameForWebrtcOnly', class: Migration20261203082104_LivekitRoomNameForWebrtcOnly },
  { name: 'Migration20261203084745_RecordingKind', class: Migration20261203084745_RecordingKind },
  { name: 'Migration20261203133220_EndReasonsAndHangupSource', class: Migration20261203133220_EndReasonsAndHangupSource },
  { name: 'Migration20261203133815_ListingOrders', class: Migration20261203133815_ListingOrders },
  { name: 'Migration20261203134701_CallOptions', class: Migration20261203134701_CallOptions },
  { name: 'Migration20261203135516_EventDigits', class: Migration20261203135516_EventDigits },
  { name: 'Migration20261203140141_CallStatsCoveringIndex', class: Migration20261203140141_CallStatsCoveringIndex },
  { name: 'Migration20261203141542_StatusCallbacks', class: Migration20261203141542_StatusCallbacks },
  { name: 'Migration20261203142202_NumberRouting', class: Migration20261203142202_NumberRouting },
  { name: 'Migration20261203163505_ApplicationOrigins', class: Migration20261203163505_ApplicationOrigins },
];
