/** Writes docs/errors.md from the error catalogue. */
import { writeFile } from 'node:fs/promises';
import { renderErrorReference } from './error-reference.js';

const target = new URL('../docs/errors.md', import.meta.url);
await writeFile(target, renderErrorReference());
process.stdout.write(`wrote ${target.pathname}\n`);
