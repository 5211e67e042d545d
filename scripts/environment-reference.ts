/** Renders docs/environment.md from the variables' declarations (src/config/); `npm run docs:environment` writes it, a unit test checks it. */
import { VARIABLE_GROUPS } from '../src/config.js';
import type { Variable } from '../src/config/parsers.js';

const cell = (text: string) => text.replaceAll('|', '\\|');

const SECTIONS: [keyof typeof VARIABLE_GROUPS, string, string][] = [
  ['gateway', 'The gateway', ''],
  ['retention', 'Retention', 'How long history is kept; a sweep deletes what is older, in batches.'],
  [
    'providers',
    'Live providers',
    'A provider is off when none of its variables is set; when some are, every required one must be (Telnyx: API key, public key, connection id; LiveKit: URL, API key and secret; WhatsApp: the five ids and secrets).',
  ],
  ['tuning', 'Tuning', 'The sizes, batches and intervals of the machinery. The defaults are the measured ones; change them when a measurement says so.'],
];

export function renderEnvironmentReference(): string {
  const lines = [
    '# Environment',
    '',
    '<!-- Generated from src/config/ by `npm run docs:environment`; test/unit/environment-doc.test.ts fails when it differs. -->',
    '',
    "Every variable is declared once (`src/config/variables.ts`, the providers' in `src/config/providers.ts`) and read when the",
    'process starts; a bad environment stops it with one message that lists every bad variable, one line each',
    '(`DB_POOL_SIZE must be an integer from 1 to 200, got "many"`). Unset and empty are the same.',
  ];
  for (const [group, title, intro] of SECTIONS) {
    lines.push('', `## ${title}`, '');
    if (intro) lines.push(intro, '');
    lines.push('| variable | default | meaning |', '| --- | --- | --- |');
    for (const variable of Object.values(VARIABLE_GROUPS[group]) as Variable<unknown>[])
      lines.push(`| \`${variable.name}\` | ${cell(variable.default === '' ? 'unset' : variable.default)} | ${cell(variable.doc)} |`);
  }
  lines.push('');
  return lines.join('\n');
}
