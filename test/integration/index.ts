/**
 * The integration tests' entry point inside VS Code's extension host: the module that
 * `extensionTestsPath` names. Exports `run()` as `@vscode/test-electron` (and VS Code's
 * `--extensionTestsPath` / web `payload`) expect: resolves when every test passed, rejects otherwise.
 *
 * Runs every `*.test.js` beside this file with mocha. Besides the exit code, the outcome goes to
 * the JSON file named by `$CNN_LENS_TEST_RESULTS` when set (passes, failures, each test's title,
 * state, duration and error), which the code-server runner reads: the exit code alone carries no
 * counts. Progress lines go to console.log, which the extension host forwards to the workbench.
 */
import Mocha from 'mocha';
import { readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

export interface IntegrationTestRecord {
  title: string;
  state: 'passed' | 'failed' | 'pending';
  durationMs?: number;
  error?: string;
}

export interface IntegrationResults {
  passed: number;
  failed: number;
  pending: number;
  tests: IntegrationTestRecord[];
}

/** Prefix of the progress lines that the code-server runner picks out of the workbench log. */
export const PROGRESS_PREFIX = '[cnn-lens-integration] ';

/**
 * A spec-like reporter writing whole, preformatted lines with console.log: the extension host
 * forwards console output (not raw stdout) to the workbench, which hands it to
 * `codeAutomationLog`, where format strings and arguments would otherwise arrive mangled.
 */
class ProgressReporter extends Mocha.reporters.Base {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    const say = (line: string) => console.log(PROGRESS_PREFIX + line);
    let depth = 0;
    runner.on('suite', (s) => {
      if (s.title) say(`${'  '.repeat(depth)}${s.title}`);
      depth++;
    });
    runner.on('suite end', () => depth--);
    runner.on('pass', (t) => say(`${'  '.repeat(depth)}✔ ${t.title} (${t.duration} ms)`));
    runner.on('fail', (t, err: Error) => say(`${'  '.repeat(depth)}✖ ${t.title}: ${err?.message ?? err}`));
    runner.on('pending', (t) => say(`${'  '.repeat(depth)}- ${t.title}`));
    runner.once('end', () => say(`${this.stats.passes} passing, ${this.stats.failures} failing (${this.stats.duration ?? 0} ms)`));
  }
}

export function run(): Promise<void> {
  const mocha = new Mocha({
    ui: 'bdd',
    timeout: 120_000,
    color: false,
    // Inside code-server the runner prints these lines; in desktop VS Code they reach the terminal.
    reporter: process.env.CNN_LENS_TEST_RESULTS ? ProgressReporter : 'spec',
    grep: process.env.CNN_LENS_TEST_GREP || undefined,
  });
  // CNN_LENS_TEST_FILES: comma-separated substrings of the test files to run (default: all).
  const only = (process.env.CNN_LENS_TEST_FILES ?? '').split(',').filter(Boolean);
  const files = readdirSync(__dirname)
    .filter((f) => f.endsWith('.test.js'))
    .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
    .sort()
    .map((f) => path.join(__dirname, f));
  for (const f of files) mocha.addFile(f);

  const results: IntegrationResults = { passed: 0, failed: 0, pending: 0, tests: [] };
  const write = () => {
    const file = process.env.CNN_LENS_TEST_RESULTS;
    if (file) writeFileSync(file, JSON.stringify(results, null, 2));
  };

  return new Promise((resolve, reject) => {
    let runner: Mocha.Runner;
    try {
      runner = mocha.run((failures) => {
        write();
        if (failures > 0) reject(new Error(`${failures} integration test(s) failed`));
        else if (results.passed === 0) reject(new Error('no integration test ran'));
        else resolve();
      });
    } catch (err) {
      results.failed++;
      results.tests.push({ title: 'loading the integration tests', state: 'failed', error: String(err) });
      write();
      reject(err);
      return;
    }
    runner.on('pass', (t) => {
      results.passed++;
      results.tests.push({ title: t.fullTitle(), state: 'passed', durationMs: t.duration });
    });
    runner.on('fail', (t, err: Error) => {
      results.failed++;
      results.tests.push({ title: t.fullTitle(), state: 'failed', durationMs: t.duration, error: err?.stack ?? String(err) });
    });
    runner.on('pending', (t) => {
      results.pending++;
      results.tests.push({ title: t.fullTitle(), state: 'pending' });
    });
  });
}
