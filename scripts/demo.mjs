#!/usr/bin/env node
// `npm run demo`: builds if needed, then runs `cnn-lens report` on both bundled sample models over
// the bundled 1,000 Fashion-MNIST test images, into demo-report/<model>/report.html.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
process.chdir(root);

function newestMtime(dir) {
  let newest = 0;
  for (const f of readdirSync(dir, { recursive: true })) {
    const p = join(dir, String(f));
    const st = statSync(p);
    if (st.isFile()) newest = Math.max(newest, st.mtimeMs);
  }
  return newest;
}

const bundle = join(root, 'dist/cli.js');
if (!existsSync(bundle) || statSync(bundle).mtimeMs < newestMtime(join(root, 'src'))) {
  console.log('Building…');
  const b = spawnSync(process.execPath, ['esbuild.mjs'], { stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
}

const samples = [
  ['fashion-mnist-cnn', 'trained normally'],
  ['fashion-mnist-cnn-high-lr', 'same architecture, trained with a far too high learning rate'],
];
let status = 0;
for (const [name, what] of samples) {
  console.log(`\n=== ${name} (${what}) ===\n`);
  const r = spawnSync(
    process.execPath,
    ['bin/cnn-lens.js', 'report', `samples/${name}/model.json`, '--data', 'samples/data/fashion-mnist-1000', '--out', `demo-report/${name}`],
    { stdio: 'inherit' },
  );
  if (r.status !== 0) status = r.status ?? 1;
}
console.log(`\nOpen demo-report/*/report.html in a browser for the full reports.`);
process.exit(status);
