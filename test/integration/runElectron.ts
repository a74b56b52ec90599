/**
 * `npm run test:electron`: runs the same integration tests in desktop VS Code through
 * `@vscode/test-electron` (it downloads VS Code, so it works only on machines that can reach
 * VS Code's download servers; on the team's machines use the code-server runner, `npm test`).
 *
 * Env: CNN_LENS_VSCODE_VERSION (default: the minimum of `engines.vscode`, e.g. 1.90.0; "stable"
 * for the newest), CNN_LENS_VSCODE_EXECUTABLE (use an installed VS Code instead of downloading).
 */
import { runTests } from '@vscode/test-electron';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../e2e/paths';
import { makeWorkspace } from '../e2e/codeServer';

function minimumVsCodeVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { engines: { vscode: string } };
  return /(\d+\.\d+\.\d+)/.exec(pkg.engines.vscode)?.[1] ?? 'stable';
}

async function main(): Promise<number> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'cnn-lens-electron-'));
  try {
    const workspace = makeWorkspace(tmp);
    await runTests({
      version: process.env.CNN_LENS_VSCODE_VERSION || minimumVsCodeVersion(),
      vscodeExecutablePath: process.env.CNN_LENS_VSCODE_EXECUTABLE || undefined,
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath: path.join(repoRoot, 'out/test/integration/index.js'),
      extensionTestsEnv: { CNN_LENS_TEST: '1' },
      launchArgs: [
        workspace,
        '--disable-extensions', // other installed extensions stay out of the way
        '--disable-workspace-trust',
        '--skip-welcome',
        '--skip-release-notes',
        `--user-data-dir=${path.join(tmp, 'user-data')}`,
        `--extensions-dir=${path.join(tmp, 'extensions')}`,
      ],
    });
    return 0;
  } catch (err) {
    console.error(`Integration tests in VS Code (electron) failed: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    rmSync(tmp, { recursive: true, force: true, maxRetries: 3 });
  }
}

main().then((code) => process.exit(code));
