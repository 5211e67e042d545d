import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The rules dependency-cruiser cannot see (.dependency-cruiser.cjs holds the import rules, run by
// `npm run lint`): SQL is written only under src/db, and the domain names no framework.
const src = fileURLToPath(new URL('../../src/', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? files(full) : entry.name.endsWith('.ts') ? [full] : [];
  });
}

const SQL = /[`'"]\s*(SELECT\s|INSERT\s+INTO\s|UPDATE\s+\w+\s+SET\s|DELETE\s+FROM\s|WITH\s+\w+\s+AS\s*\(|CREATE\s+(TABLE|INDEX|FUNCTION)\s)/i;

describe('layers', () => {
  it('SQL text appears only under src/db', () => {
    const offenders = files(src)
      .filter((file) => !file.startsWith(path.join(src, 'db') + path.sep))
      .flatMap((file) =>
        readFileSync(file, 'utf8')
          .split('\n')
          .map((line, i) => ({ file, line, at: i + 1 })),
      )
      .filter(({ line }) => SQL.test(line))
      .map(({ file, at, line }) => `${path.relative(src, file)}:${at}: ${line.trim()}`);
    expect(offenders).toEqual([]);
  });

  it('the scan finds SQL where there is some (it is not blind)', () => {
    expect(files(path.join(src, 'db')).some((file) => SQL.test(readFileSync(file, 'utf8')))).toBe(true);
    expect(SQL.test('const q = `SELECT id FROM call`;')).toBe(true);
    expect(SQL.test("await sql.query('UPDATE call SET status = $1')")).toBe(true);
  });
});
