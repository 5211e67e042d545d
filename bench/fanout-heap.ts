/**
 * Where the memory of an idle subscriber goes: compares two heap snapshots of one server child
 * (`FANOUT_HEAP_SNAPSHOT=1 FANOUT_SIZES=2000 node dist/bench/fanout.js` writes one before the
 * clients connect and one with N idle subscribers) and prints, per subscriber, the objects that
 * grew: count and self size by type and constructor / closure name.
 *
 *   node dist/bench/fanout-heap.js before.heapsnapshot idle.heapsnapshot N [top=40]
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** count and self size per "type name" key. */
function aggregate(file: string): Map<string, { count: number; size: number }> {
  const data = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = data.snapshot.meta.node_fields;
  const types = data.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const result = new Map<string, { count: number; size: number }>();
  for (let i = 0; i < data.nodes.length; i += width) {
    const type = types[data.nodes[i + typeAt]!]!;
    let name = data.strings[data.nodes[i + nameAt]!]!;
    // Strings and numbers by type only; other names shortened.
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string' || type === 'number' || type === 'bigint') name = '';
    else if (type === 'code') name = '';
    else if (name.length > 70) name = `${name.slice(0, 67)}...`;
    const key = `${type} ${name}`.trim();
    const entry = result.get(key) ?? { count: 0, size: 0 };
    entry.count++;
    entry.size += data.nodes[i + sizeAt]!;
    result.set(key, entry);
  }
  return result;
}

export function diffSnapshots(beforeFile: string, afterFile: string, n: number, top: number): string {
  const before = aggregate(beforeFile);
  const after = aggregate(afterFile);
  const rows: { key: string; count: number; size: number }[] = [];
  let total = 0;
  for (const [key, value] of after) {
    const base = before.get(key) ?? { count: 0, size: 0 };
    const size = value.size - base.size;
    total += size;
    rows.push({ key, count: (value.count - base.count) / n, size: size / n });
  }
  for (const [key, value] of before) if (!after.has(key)) total -= value.size;
  rows.sort((a, b) => b.size - a.size);
  const lines = [
    `self size grown per subscriber: ${(total / n).toFixed(0)} bytes (${(total / n / 1024).toFixed(1)} KB), N=${n}`,
    '',
    '  bytes/sub  objects/sub  type and constructor / closure name',
  ];
  for (const row of rows.slice(0, top)) lines.push(`${row.size.toFixed(0).padStart(11)}  ${row.count.toFixed(2).padStart(11)}  ${row.key}`);
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [beforeFile, afterFile, nArg, topArg] = process.argv.slice(2);
  if (!beforeFile || !afterFile || !nArg) {
    process.stderr.write('usage: node dist/bench/fanout-heap.js before.heapsnapshot idle.heapsnapshot N [top]\n');
    process.exit(2);
  }
  process.stdout.write(`${diffSnapshots(beforeFile, afterFile, Number(nArg), Number(topArg ?? 40))}\n`);
}
