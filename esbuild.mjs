// One build script for every bundle: the extension host (Node/CJS, `vscode` external), the engine
// worker, the CLI, and the webviews (browser/ESM). The wasm binaries are copied beside the Node
// bundles, where `src/engine/backend.ts` points `setWasmPaths` at them.
import * as esbuild from 'esbuild';
import { cpSync, mkdirSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

const nodeCommon = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  // tfjs-node is an optional native dependency loaded at run time only where installed.
  external: ['vscode', '@tensorflow/tfjs-node'],
  // h5wasm is an ES module that calls createRequire(import.meta.url); in a CommonJS bundle
  // import.meta is empty, so give it the bundle's own URL.
  define: { 'import.meta.url': '__cnnLensImportMetaUrl' },
  banner: { js: "var __cnnLensImportMetaUrl = require('url').pathToFileURL(__filename).href;" },
  // jsonc-parser's `main` is a UMD build whose modules require each other by computed paths that
  // esbuild cannot follow ("Cannot find module './impl/format'" at run time); its ES build bundles.
  alias: { 'jsonc-parser': 'jsonc-parser/lib/esm/main.js' },
};

const builds = [
  { ...nodeCommon, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js' },
  { ...nodeCommon, entryPoints: ['src/engine/worker.ts'], outfile: 'dist/worker.js' },
  { ...nodeCommon, entryPoints: ['src/cli.ts'], outfile: 'dist/cli.js' },
];
// One browser bundle per webview: webview/<view>/main.ts → dist/webview/<view>.js (Lit with
// legacy decorators, as webview/tsconfig.json says).
const WEBVIEWS = ['modelEditor', 'activations', 'filters', 'training', 'embedding'].filter((v) => existsSync(`webview/${v}/main.ts`));
if (WEBVIEWS.length) {
  builds.push({
    entryPoints: Object.fromEntries(WEBVIEWS.map((v) => [v, `webview/${v}/main.ts`])),
    outdir: 'dist/webview',
    tsconfig: 'webview/tsconfig.json',
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    sourcemap: !production,
    minify: production,
    logLevel: 'warning',
  });
}

function copyWasm() {
  const dir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  mkdirSync('dist', { recursive: true });
  for (const f of readdirSync(join(dir, 'dist')).filter((f) => f.endsWith('.wasm'))) {
    cpSync(join(dir, 'dist', f), join('dist', f));
  }
  // h5wasm's Node build carries its wasm inline; nothing to copy for it.
}

// A production build starts from an empty dist/, so no stale source maps reach the .vsix.
if (production) rmSync('dist', { recursive: true, force: true });
copyWasm();
if (watch) {
  for (const b of builds) (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
