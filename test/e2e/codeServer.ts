/**
 * Starts and stops a real VS Code (code-server 4.100.3, VS Code 1.100) for the e2e and
 * integration suites. See ../shared/README.md, "A real VS Code on this machine: code-server".
 *
 * Each instance gets a free port on 127.0.0.1, a fresh user-data dir, extensions dir and config
 * file under one temp folder, and a workspace that is a temp copy of `samples/` (plus the TF.js
 * fixture model), so tests can write into it freely. code-server runs in its own process group
 * (spawned detached) and is stopped by killing that group, never by name.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { artifactsDir, repoRoot, slug } from './paths';
import { FIXTURE_MODEL } from './sampleModel';

export interface CodeServerOptions {
  /** Copy the built extension (package.json, dist/, schemas/, media/) into the extensions dir. */
  installExtension?: boolean;
  /** Extra environment for code-server; it reaches the extension host. */
  env?: Record<string, string>;
  /** Extra VS Code user settings. */
  settings?: Record<string, unknown>;
  /** Milliseconds to wait for the server to answer. */
  startTimeoutMs?: number;
}

/** User settings that keep the workbench quiet and deterministic for tests. */
const DEFAULT_SETTINGS: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'git.enabled': false,
  'window.restoreWindows': 'none',
  'files.hotExit': 'off',
  // One rendered line per text line in the Output panel, so Workbench.readOutputChannel() reads lines whole.
  '[Log]': { 'editor.wordWrap': 'off' },
};

/** The code-server binary: `$CNN_LENS_CODE_SERVER_BIN`, else installed (or found) by scripts/setup-code-server.sh. */
export function codeServerBinary(): string {
  const fromEnv = process.env.CNN_LENS_CODE_SERVER_BIN;
  if (fromEnv) return fromEnv;
  const r = spawnSync('bash', [path.join(repoRoot, 'scripts/setup-code-server.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const bin = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !existsSync(bin)) throw new Error(`scripts/setup-code-server.sh failed (exit ${r.status})`);
  process.env.CNN_LENS_CODE_SERVER_BIN = bin; // later instances in this process skip the script
  return bin;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.setTimeout(2000, () => {
      req.destroy();
      resolve(0);
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The extension's folder name in an extensions dir: `<publisher>.<name>-<version>`. */
export function extensionFolderName(): string {
  const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { publisher: string; name: string; version: string };
  return `${pkg.publisher}.${pkg.name}-${pkg.version}`;
}

/** Copies what the packaged extension contains (package.json + dist/ + schemas/ + media/ ...) into `extensionsDir`. */
export function installBuiltExtension(extensionsDir: string): string {
  if (!existsSync(path.join(repoRoot, 'dist/extension.js'))) {
    throw new Error('dist/extension.js is missing: run `npm run build` first');
  }
  const dest = path.join(extensionsDir, extensionFolderName());
  mkdirSync(dest, { recursive: true });
  for (const entry of ['package.json', 'dist', 'schemas', 'media', 'README.md', 'LICENSE', 'CHANGELOG.md']) {
    const src = path.join(repoRoot, entry);
    if (existsSync(src)) cpSync(src, path.join(dest, entry), { recursive: true, filter: (f) => !f.endsWith('.map') });
  }
  return dest;
}

/** A temp copy of `samples/` (without node_modules) plus the TF.js fixture model. */
export function makeWorkspace(parent: string): string {
  const ws = path.join(parent, 'workspace');
  mkdirSync(ws, { recursive: true });
  const samples = path.join(repoRoot, 'samples');
  if (existsSync(samples)) {
    cpSync(samples, ws, { recursive: true, filter: (f) => path.basename(f) !== 'node_modules' });
  }
  cpSync(path.join(repoRoot, 'test/fixtures/models/tfjs_layers'), path.join(ws, path.dirname(FIXTURE_MODEL)), { recursive: true });
  return ws;
}

export class CodeServer {
  private exited = false;
  private exitPromise: Promise<void>;

  private constructor(
    readonly proc: ChildProcess,
    readonly port: number,
    readonly root: string,
    readonly userDataDir: string,
    readonly extensionsDir: string,
    readonly workspace: string,
    readonly serverLog: string,
  ) {
    this.exitPromise = new Promise((resolve) => proc.once('exit', () => ((this.exited = true), resolve())));
  }

  /** `http://127.0.0.1:PORT` */
  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The workbench URL with the workspace folder open (extra query parameters appended). */
  url(query: Record<string, string> = {}): string {
    const params = new URLSearchParams({ folder: this.workspace, ...query });
    return `${this.origin}/?${params.toString()}`;
  }

  /** A path on the server as the workbench addresses it (`vscode-remote://127.0.0.1:PORT/ABS/PATH`). */
  remoteUri(absPath: string): string {
    return `vscode-remote://127.0.0.1:${this.port}${absPath.split(path.sep).map(encodeURIComponent).join('/')}`;
  }

  static async start(options: CodeServerOptions = {}): Promise<CodeServer> {
    const bin = codeServerBinary();
    const root = mkdtempSync(path.join(os.tmpdir(), 'cnn-lens-code-server-'));
    const userDataDir = path.join(root, 'user-data');
    const extensionsDir = path.join(root, 'extensions');
    const configFile = path.join(root, 'config.yaml');
    mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
    mkdirSync(extensionsDir, { recursive: true });
    writeFileSync(path.join(userDataDir, 'User/settings.json'), JSON.stringify({ ...DEFAULT_SETTINGS, ...options.settings }, null, 2));
    if (options.installExtension) installBuiltExtension(extensionsDir);
    const workspace = makeWorkspace(root);
    const port = await freePort();
    writeFileSync(configFile, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
    const serverLog = path.join(root, 'code-server.log');
    const logStream = createWriteStream(serverLog);

    const args = [
      '--config', configFile,
      '--bind-addr', `127.0.0.1:${port}`,
      '--auth', 'none',
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      '--user-data-dir', userDataDir,
      '--extensions-dir', extensionsDir,
      workspace,
    ];
    const proc = spawn(bin, args, {
      detached: true, // own process group: stop() kills the whole tree (server, extension host, workers)
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
    });
    proc.stdout?.pipe(logStream, { end: false });
    proc.stderr?.pipe(logStream, { end: false });
    proc.once('exit', () => logStream.end());
    const server = new CodeServer(proc, port, root, userDataDir, extensionsDir, workspace, serverLog);

    const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
    while (Date.now() < deadline) {
      if (server.exited) break;
      if ((await httpStatus(`${server.origin}/healthz`)) === 200) return server;
      await sleep(200);
    }
    const log = existsSync(serverLog) ? readFileSync(serverLog, 'utf8') : '';
    await server.stop();
    throw new Error(`code-server did not start on port ${port}${server.exited ? ' (it exited)' : ''}:\n${log}`);
  }

  /** The extension-host log folders (`USER_DATA_DIR/logs/<session>/exthost1/`, and later ones). */
  extensionHostLogDirs(): string[] {
    const logs = path.join(this.userDataDir, 'logs');
    if (!existsSync(logs)) return [];
    const dirs: string[] = [];
    for (const session of readdirSync(logs)) {
      const sessionDir = path.join(logs, session);
      // exthost logs live either directly in the session folder or under a window folder
      for (const candidate of [sessionDir, ...safeReaddir(sessionDir).map((d) => path.join(sessionDir, d))]) {
        for (const d of safeReaddir(candidate)) if (/^exthost\d+$/.test(d)) dirs.push(path.join(candidate, d));
      }
    }
    return dirs;
  }

  /** All text of the extension-host logs (for assertions and failure messages). */
  extensionHostLogText(): string {
    let text = '';
    for (const dir of this.extensionHostLogDirs()) {
      for (const f of readdirSync(dir, { recursive: true }) as string[]) {
        const p = path.join(dir, f);
        if (f.endsWith('.log')) text += `\n--- ${p}\n${readFileSync(p, 'utf8')}`;
      }
    }
    return text;
  }

  /**
   * Copies the server log, the whole logs folder (extension host, remote agent) of this instance
   * into `<artifacts>/logs/<name>/`. Returns that folder.
   */
  collectLogs(name: string): string {
    const dest = path.join(artifactsDir('logs'), slug(name));
    rmSync(dest, { recursive: true, force: true });
    mkdirSync(dest, { recursive: true });
    if (existsSync(this.serverLog)) cpSync(this.serverLog, path.join(dest, 'code-server.log'));
    const logs = path.join(this.userDataDir, 'logs');
    if (existsSync(logs)) cpSync(logs, path.join(dest, 'logs'), { recursive: true });
    return dest;
  }

  /** Kills code-server's process group (SIGTERM, then SIGKILL) and removes its temp folder. */
  async stop(options: { keepFiles?: boolean } = {}): Promise<void> {
    const pid = this.proc.pid;
    if (pid && !this.exited) {
      killGroup(pid, 'SIGTERM');
      await Promise.race([this.exitPromise, sleep(5000)]);
    }
    // The group may outlive its leader (extension host, workers): always finish it off.
    if (pid) killGroup(pid, 'SIGKILL');
    if (!options.keepFiles) rmSync(this.root, { recursive: true, force: true, maxRetries: 3 });
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // group already gone
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
