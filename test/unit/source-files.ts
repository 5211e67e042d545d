import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The project's root folder. */
export const root = new URL('../../', import.meta.url).pathname;

/** The .ts files under `dir` (relative to the root), with their paths from the root. */
export function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}
