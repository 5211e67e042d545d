import type { EntityManager } from '@mikro-orm/postgresql';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { isPossibleE164 } from '../domain/addresses.js';
import { generateKey } from '../domain/api-keys.js';
import type { Mode } from '../domain/call.js';
import { newAppId, newKeyId, newNumberId } from '../domain/ids.js';
import { OriginError, normalizeOrigins } from '../domain/origins.js';
import { ApplicationEntity } from './entities/application.entity.js';
import { ApiKeyEntity } from './entities/api-key.entity.js';
import { PhoneNumberEntity } from './entities/phone-number.entity.js';
import { TrustedDocumentEntity } from './entities/trusted-document.entity.js';
import { DOCUMENTS_POLICIES, type DocumentsPolicy, type TrustedDocument } from '../domain/trusted-documents.js';
import { LockMode } from '@mikro-orm/core';

/** An operator's mistake (unknown app, taken number): the CLI prints it and exits non-zero. */
export class AdminError extends Error {}

export interface CreatedApp {
  id: string;
  name: string;
  testKey: string;
  liveKey: string;
}

/**
 * Operator actions: rare writes, so they go through MikroORM (one fork per call).
 * Keys are returned once and only their hashes are stored.
 */
/** Meta's phone-number ids are numeric strings (e.g. 106540352242922). */
const WHATSAPP_PHONE_NUMBER_ID = /^\d{1,64}$/;

export class AdminStore {
  constructor(private readonly rootEm: EntityManager) {}

  async createApp(name: string): Promise<CreatedApp> {
    const trimmed = name.trim();
    if (!trimmed || trimmed.length > 200) throw new AdminError('An application name is 1 to 200 characters');
    const em = this.rootEm.fork();
    const app = em.create(ApplicationEntity, { id: newAppId(), name: trimmed });
    const test = generateKey('test');
    const live = generateKey('live');
    for (const [mode, key] of [
      ['test', test],
      ['live', live],
    ] as const) {
      em.create(ApiKeyEntity, { id: newKeyId(), app, mode, hash: key.hash, displayPrefix: key.displayPrefix });
    }
    await em.flush();
    return { id: app.id, name: app.name, testKey: test.key, liveKey: live.key };
  }

  /**
   * Assigns `number` to the application (again: nothing changes). `whatsappPhoneNumberId` makes it
   * a WhatsApp business number (its id in Meta's Cloud API); given again, it replaces the id.
   */
  async assignNumber(
    appId: string,
    number: string,
    options: { whatsappPhoneNumberId?: string | null } = {},
  ): Promise<{ id: string; number: string; appId: string; whatsappPhoneNumberId: string | null }> {
    if (!isPossibleE164(number)) throw new AdminError(`${number} is not a possible E.164 number (e.g. +15551234567)`);
    const whatsappId = options.whatsappPhoneNumberId ?? null;
    if (whatsappId !== null && !WHATSAPP_PHONE_NUMBER_ID.test(whatsappId)) {
      throw new AdminError('--whatsapp-id is the phone-number id Meta shows for the number: 1 to 64 digits');
    }
    const em = this.rootEm.fork();
    const app = await this.requireApp(em, appId);
    const existing = await em.findOne(PhoneNumberEntity, { number }, { populate: ['app'] });
    if (existing && existing.app.id !== appId) throw new AdminError(`${number} is already assigned to another application`);
    const row = existing ?? em.create(PhoneNumberEntity, { id: newNumberId(), number, app });
    if (whatsappId !== null) row.whatsappPhoneNumberId = whatsappId;
    try {
      await em.flush();
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException) {
        throw new AdminError(whatsappId !== null ? `${number} or WhatsApp id ${whatsappId} is already assigned` : `${number} is already assigned`);
      }
      throw error;
    }
    return { id: row.id, number, appId, whatsappPhoneNumberId: row.whatsappPhoneNumberId ?? null };
  }

  async createKey(appId: string, mode: Mode): Promise<{ id: string; key: string; appId: string; mode: Mode }> {
    const em = this.rootEm.fork();
    const app = await this.requireApp(em, appId);
    const key = generateKey(mode);
    const row = em.create(ApiKeyEntity, { id: newKeyId(), app, mode, hash: key.hash, displayPrefix: key.displayPrefix });
    await em.flush();
    return { id: row.id, key: key.key, appId, mode };
  }

  /** Revokes now, or at `at` (rotation: the old key keeps working until then). */
  async revokeKey(keyId: string, at: Date = new Date()): Promise<{ id: string; revokedAt: Date }> {
    const em = this.rootEm.fork();
    const key = await em.findOne(ApiKeyEntity, { id: keyId });
    if (!key) throw new AdminError(`No API key ${keyId}`);
    key.revokedAt = at;
    await em.flush();
    return { id: key.id, revokedAt: at };
  }

  /** Every application, oldest first, with its number count (at most 1,000: the operator's list, not an export). */
  async listApps(): Promise<{ id: string; name: string; numbers: number; createdAt: Date }[]> {
    const apps = await this.rootEm.fork().find(ApplicationEntity, {}, { orderBy: { createdAt: 'asc', id: 'asc' }, limit: 1_000 });
    const counts = await this.rootEm
      .fork()
      .getConnection()
      .execute<{ appId: string; n: number }[]>(`SELECT app_id AS "appId", count(*)::int AS n FROM phone_number GROUP BY app_id`);
    const byApp = new Map(counts.map((row) => [row.appId, row.n]));
    return apps.map((app) => ({ id: app.id, name: app.name, numbers: byApp.get(app.id) ?? 0, createdAt: app.createdAt }));
  }

  /** Fails with AdminError when there is no such application. */
  async requireAppId(appId: string): Promise<void> {
    await this.requireApp(this.rootEm.fork(), appId);
  }

  /** Replaces the browser origins the application allows (CORS); an empty list allows none. */
  async setOrigins(appId: string, origins: readonly string[]): Promise<string[]> {
    let normalized: string[];
    try {
      normalized = normalizeOrigins(origins);
    } catch (error) {
      if (error instanceof OriginError) throw new AdminError(error.message);
      throw error;
    }
    const em = this.rootEm.fork();
    const app = await this.requireApp(em, appId);
    app.allowedOrigins = normalized;
    await em.flush();
    return normalized;
  }

  async origins(appId: string): Promise<string[]> {
    return (await this.requireApp(this.rootEm.fork(), appId)).allowedOrigins;
  }

  /**
   * Registers documents (already checked: ids, texts, validation against the schema) for the
   * application; one already there is left as it is. `replace`: the application's documents not
   * in `documents` are removed in the same transaction. At most `maxDocuments` stay registered:
   * a push that would leave more changes nothing. Concurrent pushes for one application are
   * serialised on its row, so they cannot pass the cap together.
   */
  async pushDocuments(
    appId: string,
    documents: readonly TrustedDocument[],
    options: { maxDocuments: number; replace: boolean },
  ): Promise<{ added: number; unchanged: number; removed: number; total: number }> {
    return this.rootEm.fork().transactional(async (em) => {
      const app = await em.findOne(ApplicationEntity, { id: appId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!app) throw new AdminError(`No application ${appId}`);
      const ids = [...new Set(documents.map((document) => document.id))];
      const present = new Set((await em.find(TrustedDocumentEntity, { app, id: { $in: ids } }, { fields: ['id'] })).map((row) => row.id));
      let removed = 0;
      if (options.replace) removed = await em.nativeDelete(TrustedDocumentEntity, { app, id: { $nin: ids } });
      const before = await em.count(TrustedDocumentEntity, { app });
      const fresh = documents.filter((document, index) => !present.has(document.id) && ids.indexOf(document.id) === index);
      const total = before + fresh.length;
      if (total > options.maxDocuments) {
        throw new AdminError(
          `Application ${appId} would have ${total} documents; at most ${options.maxDocuments} (TRUSTED_DOCUMENTS_PER_APPLICATION). Push with --replace to drop those no longer shipped.`,
        );
      }
      for (const document of fresh) em.create(TrustedDocumentEntity, { app, id: document.id, body: document.text });
      await em.flush();
      return { added: fresh.length, unchanged: present.size, removed, total };
    });
  }

  /** The application's registered documents, oldest first (at most TRUSTED_DOCUMENTS_PER_APPLICATION of them). */
  async listDocuments(appId: string): Promise<{ id: string; bytes: number; createdAt: Date; text: string }[]> {
    const em = this.rootEm.fork();
    await this.requireApp(em, appId);
    const rows = await em.find(TrustedDocumentEntity, { app: appId }, { orderBy: { createdAt: 'asc', id: 'asc' } });
    return rows.map((row) => ({ id: row.id, bytes: Buffer.byteLength(row.body, 'utf8'), createdAt: row.createdAt, text: row.body }));
  }

  async documentsPolicy(appId: string): Promise<DocumentsPolicy> {
    return (await this.requireApp(this.rootEm.fork(), appId)).documentsPolicy;
  }

  /** Who must name registered documents (domain/trusted-documents.ts); gateways see it within AUTH_CACHE_TTL_MS. */
  async setDocumentsPolicy(appId: string, policy: string): Promise<DocumentsPolicy> {
    if (!(DOCUMENTS_POLICIES as readonly string[]).includes(policy)) throw new AdminError(`--set takes one of ${DOCUMENTS_POLICIES.join(', ')}`);
    const em = this.rootEm.fork();
    const app = await this.requireApp(em, appId);
    app.documentsPolicy = policy as DocumentsPolicy;
    await em.flush();
    return app.documentsPolicy;
  }

  /** The newest active key of the application in a mode (what `tokens create` mints with). */
  async activeKeyId(appId: string, mode: Mode): Promise<string> {
    const em = this.rootEm.fork();
    await this.requireApp(em, appId);
    const [key] = await em.find(
      ApiKeyEntity,
      { app: appId, mode, $or: [{ revokedAt: null }, { revokedAt: { $gt: new Date() } }] },
      { orderBy: { createdAt: 'desc', id: 'desc' }, limit: 1 },
    );
    if (!key) throw new AdminError(`Application ${appId} has no active ${mode} key: create one with \`keys create --app ${appId} --mode ${mode}\``);
    return key.id;
  }

  async firstApp(): Promise<{ id: string; name: string } | null> {
    const [app] = await this.rootEm.fork().find(ApplicationEntity, {}, { orderBy: { createdAt: 'asc' }, limit: 1 });
    return app ? { id: app.id, name: app.name } : null;
  }

  private async requireApp(em: EntityManager, appId: string): Promise<ApplicationEntity> {
    const app = await em.findOne(ApplicationEntity, { id: appId });
    if (!app) throw new AdminError(`No application ${appId}`);
    return app;
  }
}
