
const { summarizeProfile } = require('./lib/profile.ts');
const group = (p) => {
  if (['node core', '(v8 builtins / native)', '(program)'].includes(p)) return 'Node + V8 (HTTP, streams, promises)';
  if (p === '(gc)') return 'GC';
  if (/^(fastify|find-my-way|@fastify\/|secure-json-parse|toad-cache|fast-json|avvio|light-my-request|process-warning|abstract-logging)/.test(p)) return 'Fastify';
  if (/^(@nestjs\/|reflect-metadata|rxjs|tslib|iterare|uid)/.test(p)) return 'NestJS';
  if (/^(@apollo\/|graphql|negotiator|whatwg-mimetype|@as-integrations|content-type|@graphql-tools|graphql-query-complexity)/.test(p)) return 'Apollo + graphql-js';
  if (/^(pino|sonic-boom|@pinojs|thread-stream|on-exit|quick-format|atomic-sleep|safe-stable)/.test(p)) return 'pino (logs)';
  if (/^(prom-client|bintrees|tdigest|bridgekeeper metrics)/.test(p)) return 'metrics';
  if (p === 'jose') return 'jose';
  if (/^(pg|typeorm|postgres-|pg-)/.test(p)) return 'pg + TypeORM';
  if (p === 'lru-cache') return 'lru-cache';
  if (p.startsWith('bridgekeeper ')) return 'Bridgekeeper code';
  return 'other';
};
const files = process.argv.slice(2);
const rows = new Map(); const heads = [];
for (const f of files) {
  const [path, label] = f.split('=');
  heads.push(label);
  const s = summarizeProfile(path);
  const g = new Map();
  for (const p of s.packages) g.set(group(p.name), (g.get(group(p.name)) ?? 0) + p.percent);
  for (const [k, v] of g) { if (!rows.has(k)) rows.set(k, {}); rows.get(k)[label] = v; }
}
console.log(`| self time by group (% of busy) | ${heads.join(' | ')} |`);
console.log(`|---|${heads.map(() => '---:').join('|')}|`);
const order = [...rows.keys()].sort((a, b) => (rows.get(b)[heads[heads.length-1]] ?? 0) - (rows.get(a)[heads[heads.length-1]] ?? 0));
for (const k of order) console.log(`| ${k} | ${heads.map((h) => (rows.get(k)[h] ?? 0).toFixed(1)).join(' | ')} |`);
