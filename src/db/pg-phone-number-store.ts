import type { Mode, Tenant } from '../domain/call.js';
import { NumberRouting, type DefaultWhatsAppNumber, type PhoneNumber, type PhoneNumberStore } from '../domain/phone-numbers.js';
import { lit } from './sql-literals.js';
import type { Sql } from './sql.js';

const APPLICATION = lit(NumberRouting.APPLICATION);

/** Numbers and their routing: small tables, read by number (unique) and by application. */
export class PgPhoneNumberStore implements PhoneNumberStore {
  constructor(
    private readonly sql: Sql,
    /** WHATSAPP_BUSINESS_NUMBER with WHATSAPP_PHONE_NUMBER_ID, if configured. */
    private readonly whatsappDefault: DefaultWhatsAppNumber | null = null,
  ) {}

  async list(tenant: Tenant): Promise<Omit<PhoneNumber, 'channels'>[]> {
    const rows = await this.sql.query<Omit<PhoneNumber, 'channels'>>(
      `SELECT n.number, n.whatsapp_phone_number_id AS "whatsappPhoneNumberId", COALESCE(r.routing, ${APPLICATION}) AS routing,
              r.target AS "routingTarget", n.created_at AS "createdAt"
         FROM phone_number n LEFT JOIN number_routing r ON r.phone_number_id = n.id AND r.mode = $2
        WHERE n.app_id = $1 ORDER BY n.created_at, n.number LIMIT 1000`,
      [tenant.appId, tenant.mode],
    );
    return rows.map((row) => ({ ...row, whatsappPhoneNumberId: this.whatsappIdWithDefault(row) }));
  }

  async whatsappIdOf(number: string, appId?: string): Promise<string | null> {
    const [row] = await this.sql.query<{ number: string; whatsappPhoneNumberId: string | null }>(
      `SELECT number, whatsapp_phone_number_id AS "whatsappPhoneNumberId" FROM phone_number WHERE number = $1 AND ($2::text IS NULL OR app_id = $2)`,
      [number, appId ?? null],
    );
    return row ? this.whatsappIdWithDefault(row) : null;
  }

  async numberOfWhatsappId(id: string): Promise<string | null> {
    const [row] = await this.sql.query<{ number: string }>(`SELECT number FROM phone_number WHERE whatsapp_phone_number_id = $1`, [id]);
    if (row) return row.number;
    return this.whatsappDefault?.phoneNumberId === id ? this.whatsappDefault.businessNumber : null;
  }

  /** A number's own WhatsApp id, else the configured one when it is the configured number. */
  private whatsappIdWithDefault(row: { number: string; whatsappPhoneNumberId: string | null }): string | null {
    if (row.whatsappPhoneNumberId !== null) return row.whatsappPhoneNumberId;
    return this.whatsappDefault?.businessNumber === row.number ? this.whatsappDefault.phoneNumberId : null;
  }

  async setRouting(tenant: Tenant, number: string, routing: NumberRouting, target: string | null): Promise<boolean> {
    const rows = await this.sql.query(
      `INSERT INTO number_routing (phone_number_id, mode, routing, target)
       SELECT id, $3, $4, $5 FROM phone_number WHERE app_id = $1 AND number = $2
       ON CONFLICT (phone_number_id, mode) DO UPDATE SET routing = excluded.routing, target = excluded.target, updated_at = now()
       RETURNING 1`,
      [tenant.appId, number, tenant.mode, routing, target],
    );
    return rows.length > 0;
  }

  async routingOf(number: string, mode: Mode): Promise<{ routing: NumberRouting; target: string | null }> {
    const [row] = await this.sql.query<{ routing: NumberRouting; target: string | null }>(
      `SELECT r.routing, r.target FROM phone_number n JOIN number_routing r ON r.phone_number_id = n.id AND r.mode = $2 WHERE n.number = $1`,
      [number, mode],
    );
    return row ?? { routing: NumberRouting.APPLICATION, target: null };
  }
}
