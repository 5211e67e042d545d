import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VARIABLE_GROUPS } from '../../src/config.js';
import { renderEnvironmentReference } from '../../scripts/environment-reference.js';
import { root, sourceFiles } from './source-files.js';

describe('the environment (src/config/)', () => {
  it('docs/environment.md is what the declarations render (run `npm run docs:environment` after changing one)', () => {
    expect(readFileSync(join(root, 'docs/environment.md'), 'utf8')).toBe(renderEnvironmentReference());
  });

  it('each variable is declared once', () => {
    const names = Object.values(VARIABLE_GROUPS).flatMap((group) => Object.values(group).map((variable) => variable.name));
    expect(names.length).toBe(new Set(names).size);
  });

  it('no file in src/ outside the configuration reads process.env', () => {
    const readers = sourceFiles('src')
      .filter((file) => !file.startsWith('src/config'))
      .filter((file) => /process\.env\b/.test(readFileSync(join(root, file), 'utf8')));
    expect(readers).toEqual([]);
  });
});
