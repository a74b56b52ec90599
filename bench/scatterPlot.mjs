#!/usr/bin/env node
// Benchmark of the Embedding view's scatter plot (webview/components/scatter-plot.ts): redraw time
// for 50,000 points while zooming and panning, with WebGL and with the 2-D canvas fallback, in
// headless Chromium (Debian's /usr/bin/chromium, `--disable-gpu`: WebGL runs on SwiftShader, the
// CPU, so a real GPU is faster). Each frame changes the view and redraws synchronously; the time
// includes reading one pixel back, which waits until the frame is really drawn (both renderers
// may otherwise defer the work), so it is the whole frame's rendering work.
//
//   node bench/scatterPlot.mjs [--points 50000] [--frames 120]
//
// Prints one JSON document: per renderer the median / p95 / max ms per redraw.
import * as esbuild from 'esbuild';
import { chromium } from 'playwright-core';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const POINTS = arg('--points', 50_000);
const FRAMES = arg('--frames', 120);
const root = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'cnn-lens-scatter-bench-'));

try {
  writeFileSync(join(dir, 'entry.ts'), `import '${root}webview/components/scatter-plot';\n(window as any).ready = true;\n`);
  await esbuild.build({ entryPoints: [join(dir, 'entry.ts')], bundle: true, format: 'esm', outfile: join(dir, 'plot.js'), tsconfig: join(root, 'webview/tsconfig.json'), logLevel: 'warning' });
  const files = {
    '/': ['text/html', '<!DOCTYPE html><html><body style="margin:0;background:#1e1e1e"><script type="module" src="/plot.js"></script></body></html>'],
    '/plot.js': ['text/javascript', null],
  };
  const { readFileSync } = await import('node:fs');
  files['/plot.js'][1] = readFileSync(join(dir, 'plot.js'), 'utf8');
  const server = createServer((req, res) => {
    const f = files[req.url];
    res.statusCode = f ? 200 : 404;
    if (f) res.setHeader('content-type', f[0]);
    res.end(f ? f[1] : '');
  }).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const browser = await chromium.launch({ executablePath: process.env.CNN_LENS_CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'], headless: true });
  const results = {};
  try {
    for (const force2d of [false, true]) {
      const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
      await page.goto(`http://127.0.0.1:${server.address().port}/`);
      await page.waitForFunction(() => window.ready);
      const r = await page.evaluate(
        async ({ n, frames, force2d }) => {
          const el = document.createElement('scatter-plot');
          el.style.cssText = 'display:block;width:1100px;height:760px';
          el.renderer = force2d ? '2d' : 'webgl';
          document.body.appendChild(el);
          await el.updateComplete;
          // Ten Gaussian-like clusters, as a t-SNE of ten classes looks.
          const pts = new Float32Array(2 * n);
          const cls = new Int32Array(n);
          let s = 1;
          const rnd = () => (s = (s * 16807) % 2147483647) / 2147483647;
          for (let i = 0; i < n; i++) {
            const c = i % 10;
            cls[i] = c;
            pts[2 * i] = Math.cos(c) * 40 + (rnd() + rnd() + rnd() - 1.5) * 8;
            pts[2 * i + 1] = Math.sin(c) * 40 + (rnd() + rnd() + rnd() - 1.5) * 8;
          }
          const colours = Array.from({ length: 10 }, (_, i) => [40 + 20 * i, 200 - 15 * i, 120]);
          const drawn = new Promise((res) => el.addEventListener('plot-rendered', (e) => res(e.detail), { once: true }));
          el.points = pts;
          el.classes = cls;
          el.colours = colours;
          const first = await drawn;
          const nextFrame = () => new Promise((res) => requestAnimationFrame(() => res()));
          const times = [];
          for (let k = 0; k < frames; k++) {
            const t0 = performance.now();
            // Zoom in for half the frames, out for the rest, panning throughout.
            el.view = { ...el.view, scale: el.view.scale * (k < frames / 2 ? 1.02 : 0.98), cx: el.view.cx + 0.1 };
            el.draw();
            // Reading one pixel back waits until the GPU process has really drawn the frame.
            if (el.painter.kind === 'webgl') el.painter.gl.readPixels(0, 0, 1, 1, 0x1908, 0x1401, new Uint8Array(4));
            else el.painter.ctx.getImageData(0, 0, 1, 1);
            times.push(performance.now() - t0);
            await nextFrame();
          }
          times.sort((a, b) => a - b);
          const q = (f) => Number(times[Math.min(times.length - 1, Math.floor(f * times.length))].toFixed(2));
          return { renderer: first.renderer, points: first.points, frames, medianMs: q(0.5), p95Ms: q(0.95), maxMs: q(1) };
        },
        { n: POINTS, frames: FRAMES, force2d },
      );
      results[force2d ? 'canvas2d' : 'webgl'] = r;
      await page.close();
    }
  } finally {
    await browser.close();
    server.close();
  }
  console.log(JSON.stringify({ bench: 'scatter-plot redraw', chromium: 'headless, --disable-gpu (SwiftShader WebGL)', points: POINTS, results }, null, 2));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
