/** Writes docs/environment.md from the variables' declarations. */
import { writeFile } from 'node:fs/promises';
import { renderEnvironmentReference } from './environment-reference.js';

const target = new URL('../docs/environment.md', import.meta.url);
await writeFile(target, renderEnvironmentReference());
process.stdout.write(`wrote ${target.pathname}\n`);
