/** Renders docs/errors.md from the error catalogue (src/graphql/error-codes.ts); `npm run docs:errors` writes it, a unit test checks it. */
import { GATEWAY_ERRORS, USER_ERRORS } from '../src/graphql/error-codes.js';

const cell = (text: string) => text.replaceAll('|', '\\|');

export function renderErrorReference(): string {
  const lines = [
    '# Errors',
    '',
    '<!-- Generated from src/graphql/error-codes.ts by `npm run docs:errors`; test/unit/error-catalogue.test.ts fails when it differs. -->',
    '',
    'The gateway answers a failure in one of two ways:',
    '',
    "- **An error** in the response's `errors`, with `extensions.code` (below): the request, or a field of it, could not be served.",
    '  Over HTTP the status says the same; over WebSocket an `error` frame, a `next` frame with `errors`, or a close code.',
    "- **A `userErrors` entry** in a mutation's payload (`code`, `field`, `message`): an expected business failure of the input, answered",
    '  with HTTP 200; nothing was changed, stored or sent to a provider.',
    '',
    '## Error codes (`extensions.code`)',
    '',
    '| code | HTTP | WebSocket | meaning |',
    '| --- | --- | --- | --- |',
    ...Object.entries(GATEWAY_ERRORS).map(([code, spec]) => `| \`${code}\` | ${spec.http} | ${cell(spec.webSocket)} | ${cell(spec.meaning)} |`),
    '',
    '## User error codes (`userErrors[].code`)',
    '',
    '| code | meaning |',
    '| --- | --- |',
    ...Object.entries(USER_ERRORS).map(([code, meaning]) => `| \`${code}\` | ${cell(meaning)} |`),
    '',
  ];
  return lines.join('\n');
}
