/**
 * Where a fan-out's CPU time goes: summarises a .cpuprofile written by
 * `FANOUT_CPU_PROF=1 node dist/bench/fanout.js` (the measured status changes at the largest N),
 * by category (graphql execution, type-graphql, graphql-ws, JSON.stringify, ws framing, socket
 * writes, our code, GC …), by function (self time), and the inclusive time of the functions on
 * the per-subscriber path.
 *
 *   node dist/bench/fanout-profile.js bench/results/profiles/fanout-gateway-10000-….cpuprofile [top=30] [regexp]
 *
 * V8 attributes time spent in C++ builtins (JSON.stringify, Buffer.from, base64url) to the JS
 * function that called them, so graphql-ws's `stringifyMessage` self time is JSON.stringify (plus
 * a few property checks), and so on; native binding frames (`writev`, `writeUtf8String`) are the
 * socket writes themselves.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const SOCKET_WRITES = new Set(['writev', 'writeBuffer', 'writeUtf8String', 'writeLatin1String', 'writeAsciiString', 'writeUcs2String']);

export function category(frame: ProfileNode['callFrame']): string {
  const { functionName: name, url } = frame;
  if (name === '(idle)') return '(idle)';
  if (name === '(garbage collector)') return 'GC';
  if (name === '(program)') return 'V8/native (program)';
  if (!url) return SOCKET_WRITES.has(name) ? 'socket writes (native)' : name === 'stringify' ? 'JSON.stringify' : 'V8/native (other)';
  if (url.includes('/node_modules/graphql-ws/')) return name === 'stringifyMessage' ? 'JSON.stringify' : 'graphql-ws';
  if (
    url.includes('/node_modules/graphql/validation/') ||
    url.includes('/node_modules/graphql/language/') ||
    url.includes('/node_modules/graphql/utilities/TypeInfo')
  ) {
    return 'graphql parse/validate';
  }
  if (url.includes('/node_modules/graphql/')) return 'graphql execution';
  if (url.includes('/node_modules/type-graphql/')) return 'type-graphql';
  if (url.includes('/node_modules/graphql-scalars/')) return 'graphql-scalars';
  if (url.includes('/node_modules/ws/')) return 'ws (framing, send)';
  if (url.includes('/node_modules/pg') || url.includes('/node_modules/pg-')) return 'pg';
  if (url.includes('/node_modules/@mikro-orm/')) return 'mikro-orm';
  if (url.includes('/node_modules/dataloader/')) return 'dataloader';
  if (url.includes('/node_modules/')) return `other packages (${url.split('/node_modules/').at(-1)!.split('/')[0]})`;
  if (url.includes('/dist/bench/')) return name === 'trigger' ? 'bench (floor: JSON.stringify + send loop)' : 'bench harness';
  if (url.includes('/dist/src/')) return 'our code (src/)';
  if (/^node:(net|stream|internal\/(stream_base_commons|streams|net))/.test(url)) return 'node net/streams';
  if (url.startsWith('node:internal/process/task_queues') || url.startsWith('node:internal/async_hooks')) return 'node microtasks/ticks';
  if (url.startsWith('node:')) return 'node core (other)';
  return 'other';
}

function where(url: string): string {
  if (!url) return '(native)';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules !== -1) return url.slice(modules + 14);
  const dist = url.indexOf('/dist/');
  return dist !== -1 ? url.slice(dist + 6) : url;
}

export function summarizeProfile(profile: Profile, top: number, filter?: string): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  // Samples under the bench's own profileStart/profileStop (the inspector starting and stopping)
  // are the measurement's cost, not the server's: left out.
  const excluded = new Set<number>();
  for (const node of profile.nodes) {
    for (let at: number | undefined = node.id; at !== undefined; at = parent.get(at)) {
      const name = byId.get(at)!.callFrame.functionName;
      if (name === 'profileStart' || name === 'profileStop') {
        excluded.add(node.id);
        break;
      }
    }
  }
  let profilerMicros = 0;
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    if (excluded.has(id)) profilerMicros += profile.timeDeltas[i] ?? 0;
    else self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  let busy = 0;
  const byCategory = new Map<string, number>();
  const byFunction = new Map<string, number>();
  const label = (node: ProfileNode) => `${node.callFrame.functionName || '(anonymous)'} ${where(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`;
  for (const [id, micros] of self) {
    const node = byId.get(id)!;
    const cat = category(node.callFrame);
    if (cat === '(idle)') continue;
    busy += micros;
    byCategory.set(cat, (byCategory.get(cat) ?? 0) + micros);
    byFunction.set(`${label(node)}  [${cat}]`, (byFunction.get(`${label(node)}  [${cat}]`) ?? 0) + micros);
  }
  const inclusive = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    if (excluded.has(id) || byId.get(id)!.callFrame.functionName === '(idle)') return;
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const key = label(byId.get(at)!);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
    }
  });
  const lines: string[] = [];
  const print = (title: string, map: Map<string, number>, limit: number) => {
    lines.push('', title);
    for (const [key, micros] of [...map].sort((a, b) => b[1] - a[1]).slice(0, limit)) {
      lines.push(`${((100 * micros) / busy).toFixed(1).padStart(6)}%  ${(micros / 1000).toFixed(1).padStart(8)} ms  ${key}`);
    }
  };
  lines.push(
    `busy (not idle) time sampled: ${(busy / 1000).toFixed(0)} ms (left out: ${(profilerMicros / 1000).toFixed(0)} ms of the profiler starting/stopping)`,
  );
  print('self time by category (% of busy time)', byCategory, 50);
  print('self time by function', byFunction, top);
  const interesting = [...inclusive].filter(([key]) => !key.startsWith('(root)') && !key.startsWith('(program)') && (!filter || new RegExp(filter).test(key)));
  print(`inclusive time by function${filter ? ` (matching /${filter}/)` : ''}`, new Map(interesting), top);
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, topArg, filter] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node dist/bench/fanout-profile.js <file.cpuprofile> [top] [regexp: inclusive times of matching functions only]\n');
    process.exit(2);
  }
  process.stdout.write(`${file}\n${summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as Profile, Number(topArg ?? 30), filter)}\n`);
}
