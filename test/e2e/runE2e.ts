/**
 * Runs the e2e suite (out/test/e2e/*.e2e.js) with mocha in this Node process; each file starts
 * its own code-server and chromium. Writes `{ passed, failed, pending }` to the file given by
 * `--results FILE` (test/run.mjs reads it) and exits non-zero on failures.
 *
 *   node out/test/e2e/runE2e.js [--results FILE] [--grep PATTERN] [FILTER ...]
 */
import Mocha from 'mocha';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { codeServerBinary } from './codeServer';

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  let results: string | undefined;
  let grep: string | undefined;
  const filters: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--results') results = args[++i];
    else if (args[i] === '--grep') grep = args[++i];
    else filters.push(args[i]);
  }

  const files = readdirSync(__dirname)
    .filter((f) => f.endsWith('.e2e.js'))
    .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
    .sort()
    .map((f) => path.join(__dirname, f));

  // Install (or find) code-server once, before any test's timeout starts.
  codeServerBinary();

  const mocha = new Mocha({ ui: 'bdd', reporter: 'spec', timeout: 180_000, color: process.stdout.isTTY, grep });
  for (const f of files) mocha.addFile(f);
  const stats = await new Promise<Mocha.Stats>((resolve) => {
    const runner = mocha.run(() => resolve(runner.stats ?? ({ passes: 0, failures: 1, pending: 0 } as Mocha.Stats)));
  });
  const summary = { passed: stats.passes, failed: stats.failures, pending: stats.pending ?? 0, files: files.length };
  if (results) {
    mkdirSync(path.dirname(results), { recursive: true });
    writeFileSync(results, JSON.stringify(summary, null, 2));
  }
  return summary.failed === 0 && summary.passed > 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
