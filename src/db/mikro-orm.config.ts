import { defineConfig, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { ApplicationEntity } from './entities/application.entity.js';
import { ApiKeyEntity } from './entities/api-key.entity.js';
import { PhoneNumberEntity } from './entities/phone-number.entity.js';
import { CallEntity } from './entities/call.entity.js';
import { CallEventEntity } from './entities/call-event.entity.js';
import { CallCommandEntity } from './entities/call-command.entity.js';
import { RecordingEntity } from './entities/recording.entity.js';
import { WebhookEndpointEntity } from './entities/webhook-endpoint.entity.js';
import { WebhookDeliveryEntity } from './entities/webhook-delivery.entity.js';
import { WebhookAttemptEntity } from './entities/webhook-attempt.entity.js';
import { WebhookCursorEntity } from './entities/webhook-cursor.entity.js';
import { RateLimitEntity } from './entities/rate-limit.entity.js';
import { StatusCallbackSecretEntity } from './entities/status-callback-secret.entity.js';
import { NumberRoutingEntity } from './entities/number-routing.entity.js';
import { TrustedDocumentEntity } from './entities/trusted-document.entity.js';
import { migrationsList } from './migrations/migrations-list.js';

/** Every table the gateway owns: the one source of the schema (the migrations come from these). */
const entities = [
  ApplicationEntity,
  ApiKeyEntity,
  PhoneNumberEntity,
  CallEntity,
  CallEventEntity,
  CallCommandEntity,
  RecordingEntity,
  WebhookEndpointEntity,
  StatusCallbackSecretEntity,
  NumberRoutingEntity,
  WebhookDeliveryEntity,
  WebhookAttemptEntity,
  WebhookCursorEntity,
  RateLimitEntity,
  TrustedDocumentEntity,
];

/**
 * Entities and migrations are listed explicitly (no folder globbing), so the compiled gateway,
 * tsx and vitest all load the same classes. Metadata comes from the decorators' explicit types.
 */
export function ormConfig(clientUrl: string, overrides: Partial<Options> = {}): Options {
  return defineConfig({
    clientUrl,
    entities,
    extensions: [Migrator],
    migrations: {
      migrationsList,
      tableName: 'mikro_orm_migrations',
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      silent: true,
    },
    pool: { min: 0, max: 4 },
    debug: false,
    allowGlobalContext: false,
    ...overrides,
  });
}
