/**
 * Runs the integration tests (test/integration/*.test.ts, compiled to out/) inside code-server's
 * Node extension host, the way `@vscode/test-electron` runs them in desktop VS Code.
 *
 * VS Code web reads `extensionDevelopmentPath` and `extensionTestsPath` from the `payload` URL
 * query parameter, runs the tests' `run()` in the extension host, then calls
 * `window.codeAutomationExit(code)`; `window.codeAutomationLog(level, message)` receives the
 * workbench's log. The per-test outcome comes back through the JSON file named by
 * `$CNN_LENS_TEST_RESULTS` (code-server's environment reaches the extension host).
 *
 *   node out/test/integration/runInCodeServer.js [--results FILE] [--grep PATTERN] [--files a.test.js,b.test.js]
 *
 * Env: CNN_LENS_INTEGRATION_TIMEOUT_MS (default 600000), CNN_LENS_VERBOSE=1 (workbench log lines).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CodeServer, codeServerBinary } from '../e2e/codeServer';
import { repoRoot } from '../e2e/paths';
import { Workbench } from '../e2e/workbench';
import type { IntegrationResults } from './index';

// Same value as PROGRESS_PREFIX in ./index (not imported: that module loads mocha for the extension host).
const PROGRESS_PREFIX = '[cnn-lens-integration] ';

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  let resultsOut: string | undefined;
  let grep: string | undefined;
  let files: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--results') resultsOut = args[++i];
    else if (args[i] === '--grep') grep = args[++i];
    else if (args[i] === '--files') files = args[++i];
  }
  const timeoutMs = Number(process.env.CNN_LENS_INTEGRATION_TIMEOUT_MS || 600_000);
  const verbose = process.env.CNN_LENS_VERBOSE === '1';

  const testsEntry = path.join(repoRoot, 'out/test/integration/index.js');
  if (!existsSync(testsEntry)) throw new Error(`${testsEntry} is missing: compile with \`tsc -p tsconfig.test.json\``);
  if (!existsSync(path.join(repoRoot, 'dist/extension.js'))) throw new Error('dist/extension.js is missing: run `npm run build`');
  codeServerBinary(); // install or find it before the clock starts

  const tmp = mkdtempSync(path.join(os.tmpdir(), 'cnn-lens-integration-'));
  const resultsFile = path.join(tmp, 'results.json');
  const started = Date.now();
  const server = await CodeServer.start({
    env: { CNN_LENS_TEST: '1', CNN_LENS_TEST_RESULTS: resultsFile, ...(grep ? { CNN_LENS_TEST_GREP: grep } : {}), ...(files ? { CNN_LENS_TEST_FILES: files } : {}) },
  });
  let wb: Workbench | undefined;
  let exitCode: number | undefined;
  let results: IntegrationResults | undefined;
  try {
    let onExit: (code: number) => void = () => undefined;
    const exited = new Promise<number>((resolve) => (onExit = resolve));
    const payload = JSON.stringify([
      ['extensionDevelopmentPath', server.remoteUri(repoRoot)],
      ['extensionTestsPath', server.remoteUri(testsEntry)],
    ]);
    wb = await Workbench.open(server, {
      url: server.url({ payload }),
      waitForWorkbench: false,
      beforeNavigate: async (page) => {
        await page.exposeFunction('codeAutomationExit', (code: number) => onExit(code));
        // The workbench log, which includes the extension host's console output: print the
        // tests' progress lines live (everything with CNN_LENS_VERBOSE=1).
        await page.exposeFunction('codeAutomationLog', (level: string, message: unknown) => {
          const text = String(message);
          const at = text.indexOf(PROGRESS_PREFIX);
          if (at >= 0) console.log(`  ${text.slice(at + PROGRESS_PREFIX.length)}`);
          else if (verbose) console.log(`    [workbench ${level}] ${text}`);
        });
        if (verbose) page.on('console', (m) => console.log(`    [browser ${m.type()}] ${m.text()}`));
      },
    });
    exitCode = await Promise.race([exited, new Promise<number>((r) => setTimeout(() => r(-1), timeoutMs))]);
    if (exitCode === -1) console.error(`Integration tests did not finish within ${timeoutMs} ms`);
    if (existsSync(resultsFile)) results = JSON.parse(readFileSync(resultsFile, 'utf8')) as IntegrationResults;
  } finally {
    const failed = exitCode !== 0 || !results || results.failed > 0;
    if (failed) {
      if (wb) {
        await wb.screenshot('integration-failure').catch(() => undefined);
        wb.saveConsole('integration');
      }
      console.error(`Logs: ${server.collectLogs('integration')}`);
    }
    await wb?.close();
    await server.stop();
    rmSync(tmp, { recursive: true, force: true });
  }

  console.log(`\nIntegration tests in code-server's extension host: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  for (const t of (results?.tests ?? []).filter((x) => x.state === 'failed')) {
    console.log(`  ✖ ${t.title}`);
    if (t.error) console.log(t.error.replace(/^/gm, '      '));
  }
  const passed = results?.passed ?? 0;
  // No results file, or an exit code that contradicts it, counts as one more failure.
  const failed = (results?.failed ?? 0) + (!results || (exitCode !== 0 && results.failed === 0) ? 1 : 0);
  console.log(`  exit code ${exitCode}; ${passed} passed, ${failed} failed`);
  if (resultsOut) {
    mkdirSync(path.dirname(resultsOut), { recursive: true });
    writeFileSync(resultsOut, JSON.stringify({ passed, failed, pending: results?.pending ?? 0 }, null, 2));
  }
  return failed === 0 && passed > 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
