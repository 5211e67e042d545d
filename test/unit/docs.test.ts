import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { buildSchema, parse, validate, Kind, type GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { ROOT, anchorsOf, codeBlocks, markdownFiles, prose, read } from '../helpers/markdown.js';

/**
 * Documentation that cannot rot: every relative link and anchor of the Markdown a reader is sent
 * to resolves (offline: files and headings of this tree), and every GraphQL example validates
 * against the emitted schema: the ```graphql blocks, the `"query": "…"` documents inside the shell
 * and JSON examples, and the `query: \`…\`` documents of the TypeScript ones. The runnable ones are executed by test/docs-examples.test.ts.
 */
const schema = buildSchema(readFileSync(path.join(ROOT, 'schema/schema.graphql'), 'utf8'));

/** Where a relative link points: the file (or folder) and the anchor, or null for an outside link. */
function target(file: string, href: string): { file: string; anchor: string | null } | null {
  if (/^[a-z][a-z0-9+.-]*:/i.test(href)) return null;
  const [pathPart, anchor] = href.split('#') as [string, string | undefined];
  const resolved = pathPart === '' ? file : path.normalize(path.join(path.dirname(file), decodeURIComponent(pathPart)));
  return { file: resolved, anchor: anchor ?? null };
}

/** The GraphQL documents of a Markdown file, with where they are. */
export function graphqlExamples(file: string): { where: string; text: string; info: string }[] {
  const examples: { where: string; text: string; info: string }[] = [];
  for (const block of codeBlocks(file, read(file))) {
    if (block.lang === 'graphql') examples.push({ where: `${file}:${block.line}`, text: block.text, info: block.info });
    if (block.lang === 'ts' || block.lang === 'js') {
      for (const match of block.text.matchAll(/query:\s*`([^`]*)`/g)) {
        if (!match[1]!.includes('${')) examples.push({ where: `${file}:${block.line}`, text: match[1]!, info: '' });
      }
    }
    if (block.lang === 'sh' || block.lang === 'bash' || block.lang === 'json') {
      for (const match of block.text.matchAll(/"query":\s*"((?:[^"\\]|\\.)*)"/g)) {
        examples.push({ where: `${file}:${block.line}`, text: JSON.parse(`"${match[1]}"`) as string, info: '' });
      }
    }
  }
  return examples;
}

describe('the documentation', () => {
  const files = markdownFiles();

  it('has every page the README maps, and the README stays short', () => {
    const readme = read('README.md');
    expect(readme.split('\n').length).toBeLessThanOrEqual(250);
    for (const page of [
      'getting-started',
      'api',
      'live-status',
      'commands',
      'webhooks',
      'browser-apps',
      'providers',
      'operations',
      'security',
      'cli',
      'environment',
      'errors',
      'architecture',
    ]) {
      expect(readme, page).toContain(`(docs/${page}.md)`);
    }
  });

  it('every relative link and anchor resolves', () => {
    const broken: string[] = [];
    for (const file of files) {
      for (const match of prose(read(file)).matchAll(/\]\(([^)\s]+)\)/g)) {
        const link = target(file, match[1]!);
        if (!link) continue;
        const absolute = path.join(ROOT, link.file);
        if (!existsSync(absolute)) {
          broken.push(`${file}: ${match[1]} (no ${link.file})`);
          continue;
        }
        if (link.anchor && !statSync(absolute).isDirectory() && !anchorsOf(read(link.file)).has(link.anchor)) {
          broken.push(`${file}: ${match[1]} (no heading #${link.anchor} in ${link.file})`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it('every GraphQL example validates against schema/schema.graphql', () => {
    const invalid: string[] = [];
    let checked = 0;
    for (const file of files.filter((file) => file === 'README.md' || file.startsWith('docs/') || file.startsWith('packages/'))) {
      for (const example of graphqlExamples(file)) {
        let errors: readonly GraphQLError[];
        try {
          const document = parse(example.text);
          // Schema text (SDL) in a graphql block is shown, not sent.
          if (document.definitions.some((definition) => definition.kind !== Kind.OPERATION_DEFINITION && definition.kind !== Kind.FRAGMENT_DEFINITION))
            continue;
          errors = validate(schema, document);
        } catch (error) {
          errors = [error as GraphQLError];
        }
        checked++;
        for (const error of errors) invalid.push(`${example.where}: ${error.message}`);
      }
    }
    expect(invalid).toEqual([]);
    expect(checked).toBeGreaterThanOrEqual(8);
  });
});
