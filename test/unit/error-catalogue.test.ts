import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GATEWAY_ERRORS, USER_ERRORS } from '../../src/graphql/error-codes.js';
import { UserErrorCode } from '../../src/domain/errors.js';
import { renderErrorReference } from '../../scripts/error-reference.js';
import { root, sourceFiles } from './source-files.js';

describe('the error catalogue (src/graphql/error-codes.ts)', () => {
  it('docs/errors.md is what the catalogue renders (run `npm run docs:errors` after changing it)', () => {
    expect(readFileSync(join(root, 'docs/errors.md'), 'utf8')).toBe(renderErrorReference());
  });

  it('has a meaning for every UserErrorCode', () => {
    expect(Object.keys(USER_ERRORS).sort()).toEqual(Object.values(UserErrorCode).sort());
  });

  it('no file in src/ writes a gateway error code as a string literal: each site takes it from the catalogue', () => {
    const codes = Object.keys(GATEWAY_ERRORS).filter((code) => !(code in USER_ERRORS));
    const found: string[] = [];
    for (const file of sourceFiles('src')) {
      if (file.endsWith('error-codes.ts')) continue;
      const text = readFileSync(join(root, file), 'utf8');
      for (const code of codes) if (text.includes(`'${code}'`) || text.includes(`"${code}"`)) found.push(`${file}: ${code}`);
    }
    expect(found).toEqual([]);
  });
});
