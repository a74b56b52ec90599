#!/usr/bin/env node
// `npm run bench`: the three benchmark programs in turn, each writing its JSON to bench/results/.
// Arguments after `npm run bench --` go to the engine bench (out/bench/run.js, see bench/README.md);
// the embedding and training benches have their own scripts (`npm run bench:embed`,
// `npm run bench:training`) for their options. Exits non-zero if any of them fails.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const out = new URL('../out/bench/', import.meta.url).pathname;
const runs = [
  ['run.js', process.argv.slice(2)],
  ['embed.js', []],
  ['training.js', []],
];
let failed = 0;
for (const [file, args] of runs) {
  console.error(`\n[bench] ${file} ${args.join(' ')}`.trimEnd());
  const r = spawnSync(process.execPath, [join(out, file), ...args], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`[bench] ${file} exited with ${r.status ?? r.signal}`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
