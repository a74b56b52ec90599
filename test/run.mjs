#!/usr/bin/env node
// Runs every test suite and ends with one summary line, `N passed, N failed`, which CI reads.
// Suites:
//   unit         node:test over the tsc output in out/test/unit
//   integration  mocha inside a real VS Code extension host (code-server), test/integration/
//   e2e          Playwright + chromium driving the code-server workbench, test/e2e/*.e2e.ts
// `npm test` runs `pretest` first (build + compile), so this file assumes out/ and dist/ exist.
// code-server is installed (once, cached) by scripts/setup-code-server.sh before the last two.
//
//   node test/run.mjs [--suite unit|integration|e2e ...] [FILTER ...]
// FILTERs select test files by substring; the code-server suites then run only when a filter
// matches one of their files (or they are named with --suite).
// CNN_LENS_SKIP_E2E=1 skips the code-server suites (integration and e2e) for quick local runs.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, mkdirSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const onlySuites = [];
const only = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--suite') onlySuites.push(args[++i]);
  else if (args[i].startsWith('--suite=')) onlySuites.push(args[i].slice('--suite='.length));
  else only.push(args[i]);
}

function listFiles(dir, suffix) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true })
    .filter((f) => f.endsWith(suffix))
    .map((f) => join(dir, f))
    .sort();
}
const matching = (files) => files.filter((f) => only.length === 0 || only.some((o) => f.includes(o)));

const results = join(root, 'out/test-results');
mkdirSync(results, { recursive: true });

const suites = [
  { name: 'unit', kind: 'node-test', files: matching(listFiles(join(root, 'out/test/unit'), '.test.js')) },
  {
    name: 'integration',
    kind: 'code-server',
    files: matching(listFiles(join(root, 'out/test/integration'), '.test.js')),
    command: (files, resultFile) => [
      join(root, 'out/test/integration/runInCodeServer.js'),
      '--results',
      resultFile,
      ...(only.length ? ['--files', files.map((f) => f.split('/').pop()).join(',')] : []),
    ],
  },
  {
    name: 'e2e',
    kind: 'code-server',
    files: matching(listFiles(join(root, 'out/test/e2e'), '.e2e.js')),
    command: (files, resultFile) => [join(root, 'out/test/e2e/runE2e.js'), '--results', resultFile, ...files.map((f) => f.split('/').pop())],
  },
];

const unknown = onlySuites.filter((n) => !suites.some((s) => s.name === n));
if (unknown.length) {
  console.error(`Unknown suite(s): ${unknown.join(', ')}; known: ${suites.map((s) => s.name).join(', ')}`);
  process.exit(2);
}
const selected = (s) => onlySuites.length === 0 || onlySuites.includes(s.name);
const skipCodeServer = process.env.CNN_LENS_SKIP_E2E === '1';

let passed = 0;
let failed = 0;
const timings = [];

function countFailure(suite, why) {
  console.error(`\n${suite}: ${why}`);
  failed += 1;
}

// Installs code-server (cached) once for both code-server suites; its binary's path goes to them.
let codeServerReady;
function setupCodeServer() {
  if (codeServerReady !== undefined) return codeServerReady;
  console.log('\n=== setup: code-server (scripts/setup-code-server.sh) ===');
  const t0 = Date.now();
  const r = spawnSync('bash', [join(root, 'scripts/setup-code-server.sh')], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const bin = (r.stdout ?? '').trim().split('\n').pop();
  codeServerReady = r.status === 0 && !!bin && existsSync(bin);
  if (codeServerReady) process.env.CNN_LENS_CODE_SERVER_BIN = bin;
  timings.push(`setup ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return codeServerReady;
}

for (const suite of suites) {
  if (!selected(suite)) continue;
  if (suite.files.length === 0) {
    // An explicitly requested suite with nothing to run is a failure; otherwise just not applicable.
    if (onlySuites.includes(suite.name)) countFailure(suite.name, 'no test files (did `npm run pretest` compile them?)');
    continue;
  }
  const t0 = Date.now();
  if (suite.kind === 'node-test') {
    // Per-process names: several runs (e.g. of different filters) may share this checkout.
    const tap = join(results, `${suite.name}-${process.pid}.tap`);
    rmSync(tap, { force: true });
    console.log(`\n=== ${suite.name} tests (${suite.files.length} files) ===`);
    const r = spawnSync(
      process.execPath,
      ['--test', '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...suite.files],
      { stdio: 'inherit', cwd: root, env: { ...process.env, CNN_LENS_TEST: '1' } },
    );
    const text = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
    rmSync(tap, { force: true });
    const p = Number(/^# pass (\d+)/m.exec(text)?.[1] ?? 0);
    const f = Number(/^# fail (\d+)/m.exec(text)?.[1] ?? 0);
    passed += p;
    // A runner that died without reporting counts as a failure.
    failed += f + (r.status !== 0 && f === 0 ? 1 : 0);
  } else {
    if (skipCodeServer) {
      console.log(`\n=== ${suite.name} tests: SKIPPED (CNN_LENS_SKIP_E2E=1; CI runs them) ===`);
      continue;
    }
    if (!setupCodeServer()) {
      countFailure(suite.name, 'code-server setup failed (scripts/setup-code-server.sh); suite not run');
      continue;
    }
    const resultFile = join(results, `${suite.name}-${process.pid}.json`);
    rmSync(resultFile, { force: true });
    console.log(`\n=== ${suite.name} tests (${suite.files.length} files, code-server + chromium) ===`);
    const r = spawnSync(process.execPath, suite.command(suite.files, resultFile), {
      stdio: 'inherit',
      cwd: root,
      env: { ...process.env, CNN_LENS_TEST: '1' },
    });
    let counts;
    try {
      counts = JSON.parse(readFileSync(resultFile, 'utf8'));
      rmSync(resultFile, { force: true });
    } catch {
      counts = undefined;
    }
    if (!counts) {
      countFailure(suite.name, `runner exited with ${r.status ?? r.signal} without writing ${resultFile}`);
    } else {
      passed += counts.passed;
      failed += counts.failed + (r.status !== 0 && counts.failed === 0 ? 1 : 0);
    }
  }
  timings.push(`${suite.name} ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

if (timings.length) console.log(`\nTimings: ${timings.join(', ')}`);
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
