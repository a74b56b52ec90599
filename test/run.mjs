#!/usr/bin/env node
// Runs every test suite and ends with one summary line, `N passed, N failed`, which CI reads.
// Suites: unit tests of the engine and CLI (node:test over the tsc output in out/).
// `npm test` runs `pretest` first (build + compile), so this file assumes out/ and dist/ exist.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const only = process.argv.slice(2);

function listTests(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true })
    .filter((f) => f.endsWith('.test.js'))
    .map((f) => join(dir, f))
    .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
    .sort();
}

const suites = [{ name: 'unit', files: listTests(join(root, 'out/test/unit')) }];

let passed = 0;
let failed = 0;
mkdirSync(join(root, 'out/test-results'), { recursive: true });
for (const suite of suites) {
  if (suite.files.length === 0) continue;
  const tap = join(root, 'out/test-results', `${suite.name}.tap`);
  console.log(`\n=== ${suite.name} tests (${suite.files.length} files) ===`);
  const r = spawnSync(
    process.execPath,
    ['--test', '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...suite.files],
    { stdio: 'inherit', cwd: root, env: { ...process.env, CNN_LENS_TEST: '1' } },
  );
  const text = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
  const p = Number(/^# pass (\d+)/m.exec(text)?.[1] ?? 0);
  const f = Number(/^# fail (\d+)/m.exec(text)?.[1] ?? 0);
  passed += p;
  // A runner that died without reporting counts as a failure.
  failed += f + (r.status !== 0 && f === 0 ? 1 : 0);
}
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
