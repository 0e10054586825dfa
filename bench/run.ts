/**
 * `npm run bench`: every benchmark in turn, each as its own process so one's memory and JIT state do not
 * colour the next. Pass names to run a subset: `npm run bench -- ingest`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

const ALL = ['chunk-codec', 'ingest', 'ingest-memory', 'wal-replay', 'query', 'query-lifetime', 'agent', 'compaction', 'patterns'];
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const names = wanted.length > 0 ? wanted : ALL;
let failed = 0;
for (const name of names) {
  const file = resolve(import.meta.dirname, `${name}.js`);
  if (!existsSync(file)) {
    process.stdout.write(`(no benchmark named ${name})\n`);
    continue;
  }
  process.stdout.write(`\n=== ${name} ===\n`);
  const r = spawnSync(process.execPath, [file], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
