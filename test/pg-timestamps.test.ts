import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parsedOutcome as outcome, referenceTimestamptz as reference } from './helpers/timestamps.js';
import pg from 'pg';
import { pgTypes } from '../src/db/pg-timestamps.js';
import { templateUrl } from './helpers/gateway.js';

/**
 * The request path's pool reads timestamptz with parseTimestamptz (db/pg-timestamps.ts); here
 * PostgreSQL writes the values, from 1 AD to 9999 at microsecond precision, and at the
 * millisecond precision of the gateway's columns, in zones with odd offsets, and each must come
 * back as pg's own parser reads the same text. (Generated text: test/unit/pg-timestamps.test.ts.)
 */
describe('timestamps from PostgreSQL through the gateway’s parser', () => {
  it('on what PostgreSQL writes, in several time zones', async () => {
    const client = new pg.Client({ connectionString: templateUrl(), types: pgTypes });
    await client.connect();
    try {
      // Milliseconds from 0001-01-01 to 9999-12-31, and a microsecond within each.
      const times = fc.sample(fc.tuple(fc.integer({ min: 0, max: 315_537_897_599_999 }), fc.integer({ min: 0, max: 999 })), 2_000);
      for (const zone of ['UTC', 'Asia/Kolkata', 'America/St_Johns', 'Europe/Amsterdam', 'Pacific/Chatham']) {
        await client.query(`SET TimeZone = '${zone}'`);
        const { rows } = await client.query<{ text: string; parsed: Date; parsed3: Date; text3: string }>(
          `WITH v AS (SELECT timestamptz '0001-01-01 00:00:00+00' + ms * interval '1 millisecond' + us * interval '1 microsecond' AS t
                        FROM unnest($1::bigint[], $2::int[]) AS u(ms, us))
           SELECT t::text AS text, t AS parsed, t::timestamptz(3)::text AS text3, t::timestamptz(3) AS parsed3 FROM v`,
          [times.map(([ms]) => String(ms)), times.map(([, us]) => us)],
        );
        for (const row of rows) {
          expect(outcome(row.parsed), row.text).toEqual(outcome(reference(row.text)));
          expect(outcome(row.parsed3), row.text3).toEqual(outcome(reference(row.text3)));
        }
        expect(rows.length).toBe(2_000);
      }
    } finally {
      await client.end();
    }
  });
});
