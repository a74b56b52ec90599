/**
 * `cnn-lens embed MODEL --data DATA [--layer NAME] [--method tsne|pca|umap] [--limit N] [--out FILE.png|DIR] [--json]`:
 * a layer's codes for N images (spread evenly over the dataset) projected to 2-D, with 10-NN
 * accuracy and trustworthiness, and optionally a PNG scatter plot coloured by class.
 */
import * as path from 'path';
import type { CliContext, Command } from './commands';
import type { EmbedReport } from '../engine/client';
import type { EmbedMethod, EmbedOptions, EmbedPhase } from '../engine/embedding/embedData';
import { EMBED_METHODS } from '../engine/embedding/embedData';
import { writeFileAtomic } from '../engine/io/atomicWrite';
import { encodePng } from '../engine/render/png';
import { scatterPlot } from '../engine/render/scatterPlot';
import { thousands } from '../engine/report/textTable';
import { ProgressBar } from './progressBar';
import { UsageError } from './usage';


const METHOD_NAMES: Record<EmbedMethod, string> = { tsne: 't-SNE', pca: 'PCA', umap: 'UMAP' };

function flag(ctx: CliContext, name: string): string | undefined {
  const v = ctx.options?.[name];
  return v === undefined ? undefined : String(v);
}

function number(ctx: CliContext, name: string, ok: (n: number) => boolean, what: string): number | undefined {
  const v = flag(ctx, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || !ok(n)) throw new UsageError(`--${name} must be ${what} (got "${v}")`);
  return n;
}

/** The projection options given on the command line (exit code 2 on a bad value). */
export function embedOptions(ctx: CliContext): EmbedOptions {
  const method = flag(ctx, 'method') ?? 'tsne';
  if (!EMBED_METHODS.includes(method as EmbedMethod)) throw new UsageError(`--method must be one of ${EMBED_METHODS.join(', ')} (got "${method}")`);
  if ((ctx.layers?.length ?? 0) > 1) throw new UsageError('embed takes one --layer');
  const lr = flag(ctx, 'learning-rate');
  return {
    method: method as EmbedMethod,
    layer: ctx.layers?.[0],
    limit: ctx.limit,
    perplexity: number(ctx, 'perplexity', (n) => n > 0, 'a number > 0'),
    iterations: number(ctx, 'iterations', (n) => Number.isInteger(n) && n >= 1, 'a whole number ≥ 1'),
    learningRate: lr === 'auto' ? 'auto' : number(ctx, 'learning-rate', (n) => n > 0, 'a number > 0 or "auto"'),
    seed: number(ctx, 'seed', (n) => Number.isInteger(n) && n >= 0, 'a whole number ≥ 0'),
  };
}

/** The documented JSON document (README, "Command-line tool"). */
export function embedJson(r: EmbedReport, files: string[]) {
  const points: [number, number][] = [];
  for (let i = 0; i < r.points.length / 2; i++) points.push([Number(r.points[2 * i].toPrecision(6)), Number(r.points[2 * i + 1].toPrecision(6))]);
  return {
    backend: r.backend,
    data: r.dataset.path,
    method: r.method,
    layer: r.layer,
    dims: r.dims,
    points,
    labels: r.labels ? Array.from(r.labels) : null,
    predicted: Array.from(r.predicted),
    classNames: r.classNames,
    ids: r.ids,
    knnAccuracy: r.knnAccuracy,
    trustworthiness: r.trustworthiness,
    trustworthinessSample: r.trustworthinessSample,
    seconds: r.seconds,
    codeSeconds: r.codeSeconds,
    skipped: r.skipped,
    files,
  };
}

/** `--out`: a .png file, or a folder that gets `embedding-<method>.png`. */
function pngTarget(out: string, method: EmbedMethod): string {
  return out.toLowerCase().endsWith('.png') ? out : path.join(out, `embedding-${method}.png`);
}

const PHASE_LABELS: Record<EmbedPhase, string> = {
  codes: 'codes',
  neighbors: 'neighbours',
  affinities: 'affinities',
  optimize: 'optimise',
  quality: 'quality',
};

export const embedCommand: Command = {
  check(ctx) {
    embedOptions(ctx);
  },
  async run(ctx) {
    const options = embedOptions(ctx);
    let bar: ProgressBar | undefined;
    let phase: EmbedPhase | undefined;
    const r = await ctx.client.embed(
      ctx.model,
      { ...options, data: ctx.data, batchSize: ctx.batchSize },
      {
        signal: ctx.signal,
        onPhase: (p, done, total) => {
          if (p !== phase) {
            bar?.finish();
            phase = p;
            bar = new ProgressBar(p === 'optimize' ? `${METHOD_NAMES[options.method ?? 'tsne']} ${PHASE_LABELS[p]}` : PHASE_LABELS[p], ctx.stderr);
          }
          bar?.update(done, total);
        },
      },
    );
    bar?.finish();
    const files: string[] = [];
    const method = METHOD_NAMES[r.method];
    if (ctx.out) {
      const file = pngTarget(ctx.out, r.method);
      const acc = r.knnAccuracy == null ? '' : `, 10-NN acc ${r.knnAccuracy.toFixed(3)}`;
      const image = scatterPlot(r.points, r.labels ?? r.predicted, {
        title: `${method} of ${r.layer} (${r.dims}-d), ${thousands(r.points.length / 2)} images${acc}`,
        classNames: r.classNames,
        legendTitle: r.labels ? 'true class' : 'predicted class',
      });
      await writeFileAtomic(file, encodePng(image));
      files.push(file);
    }
    if (ctx.json) {
      ctx.stdout.write(JSON.stringify(embedJson(r, files)) + '\n');
      return;
    }
    const n = r.points.length / 2;
    ctx.stdout.write(
      `${method} of layer ${r.layer} (${r.dims} values per image) for ${thousands(n)} images of ${r.dataset.path} (backend ${r.backend})\n` +
        `  codes ${r.codeSeconds.toFixed(1)} s, projection ${r.seconds.toFixed(1)} s\n` +
        `  10-NN accuracy in 2-D: ${r.knnAccuracy == null ? 'n/a (unlabelled data)' : r.knnAccuracy.toFixed(3)}\n` +
        `  trustworthiness (k = 10): ${r.trustworthiness.toFixed(3)}` +
        (r.trustworthinessSample < n ? ` (on a random ${thousands(r.trustworthinessSample)}-image subsample)` : '') +
        '\n',
    );
    if (r.skipped.length) ctx.stdout.write(`Skipped ${r.skipped.length} file(s), e.g. ${r.skipped[0].file}: ${r.skipped[0].reason}\n`);
    if (files.length) ctx.stdout.write(`Wrote ${files[0]}\n`);
  },
};
