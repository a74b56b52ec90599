/**
 * The CLI's commands: each turns engine results into the documented JSON document or a text
 * table, and writes files (PNG grids, the HTML report) atomically into `--out`.
 */
import * as path from 'path';
import type { EngineClient } from '../engine/client';
import type { SummaryJobResult, ActivationsJobResult, FiltersJobResult } from '../engine/jobs';
import type { ScanReport, EvaluateReport } from '../engine/client';
import { writeFileAtomic } from '../engine/io/atomicWrite';
import { encodePng } from '../engine/render/png';
import { activationGrid, filterGrid } from '../engine/render/resultImages';
import { renderHtmlReport } from '../engine/report/htmlReport';
import { ProgressBar } from './progressBar';
import { formatTable, thousands } from '../engine/report/textTable';
import { formatSummaryText } from '../engine/report/summaryText';
import { filterNoiseVerdict } from '../engine/report/filterNoiseText';
import { NOISY_Z } from '../engine/analyses/filterRoughness';
import { UsageError } from './usage';
import { rfCommand } from './rfCommand';
import { erfCommand } from './erfCommand';
import { trainHeadCommand } from './trainHeadCommand';
import { fineTuneCommand } from './fineTuneCommand';
import { embedCommand } from './embedCommand';

export interface CliContext {
  model: string;
  json: boolean;
  out?: string;
  layers?: string[];
  image?: string;
  index?: number;
  data?: string;
  limit?: number;
  batchSize?: number;
  dyingThreshold?: number;
  /** --channel C (erf). */
  channel?: number;
  /** --unit Y,X (erf). */
  unit?: [number, number];
  /** Every parsed flag by its name (`--learning-rate` → `options['learning-rate']`), for commands with many. */
  options?: Record<string, unknown>;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  signal: AbortSignal;
  client: EngineClient;
}

export interface Command {
  /** Argument checks that need no engine (exit code 2 on failure). */
  check?(ctx: CliContext): void;
  run(ctx: CliContext): Promise<void>;
}

function printJson(ctx: CliContext, value: unknown): void {
  ctx.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** File-name-safe version of a layer name (graph node names contain slashes). */
export function safeFileName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_');
}

// ---------------------------------------------------------------------------------------------
// JSON shapes (documented in the README)

export function summaryJson(r: SummaryJobResult) {
  const s = r.summary;
  return {
    backend: r.backend,
    model: s.path,
    format: s.format,
    input: s.input,
    layers: s.layers.map((l) => ({
      name: l.name,
      className: l.className,
      outputShape: l.outputShape,
      params: l.params,
      trainableParams: l.trainableParams,
      activation: l.activation ?? null,
      flops: l.flops,
    })),
    totalParams: s.totals.params,
    trainableParams: s.totals.trainableParams,
    totalFlops: s.totals.flops,
    uncountedLayers: s.totals.uncountedLayers,
  };
}

export function scanJson(r: ScanReport) {
  return {
    backend: r.backend,
    data: r.dataset.path,
    images: r.images,
    seconds: r.seconds,
    dyingThreshold: r.dyingThreshold,
    layers: r.layers.map((l) => ({
      name: l.name,
      activation: l.activation,
      units: l.units,
      deadApplicable: l.deadApplicable,
      dead: l.dead,
      dying: l.dying,
      firingRate: l.firingRate,
    })),
    skipped: r.skipped,
  };
}

export function evaluateJson(r: EvaluateReport) {
  return {
    backend: r.backend,
    data: r.dataset.path,
    images: r.images,
    accuracy: r.accuracy,
    classNames: r.classNames ?? null,
    confusion: r.confusion,
    seconds: r.seconds,
    skipped: r.skipped,
  };
}

function statsList(a: ArrayLike<number> | undefined): number[] {
  return a ? Array.from(a, (v) => Number(v.toPrecision(6))) : [];
}

export function activationsJson(r: ActivationsJobResult) {
  return {
    backend: r.backend,
    image: r.image,
    layers: r.layers.map((l) => ({
      name: l.layer,
      className: l.className,
      shape: l.shape,
      activation: l.activation,
      channels: l.channels,
      mean: statsList(l.stats?.mean),
      max: statsList(l.stats?.max),
      zeroFraction: statsList(l.stats?.zeroFraction),
      deadChannels: l.deadChannels,
    })),
  };
}

export function filtersJson(r: FiltersJobResult) {
  return {
    backend: r.backend,
    layers: r.layers.map((l) => ({
      name: l.layer,
      className: l.className,
      kernelSize: [l.kernelHeight, l.kernelWidth],
      inChannels: l.inChannels,
      filters: l.filters,
      mode: l.mode,
      roughness: l.roughness.map((s) => (s == null ? null : Number(s.toFixed(4)))),
      structureZ: l.structureZ.map((z) => (z == null ? null : Number(z.toFixed(3)))),
      perFilterTest: l.perFilterTest,
      noisy: l.noisy.flatMap((n, i) => (n ? [i] : [])),
      noisyZ: l.noisyZ,
      layerRoughness: l.layerRoughness == null ? null : Number(l.layerRoughness.toFixed(4)),
      layerStructureZ: l.layerStructureZ == null ? null : Number(l.layerStructureZ.toFixed(3)),
      histogram: { edges: l.histogram.edges, counts: l.histogram.counts },
    })),
  };
}

// ---------------------------------------------------------------------------------------------
// Text output

function printSummary(ctx: CliContext, r: SummaryJobResult): void {
  ctx.stdout.write(formatSummaryText(r));
}

export function scanTable(r: ScanReport): string {
  const rows = r.layers.map((l) => [
    l.name,
    l.activation,
    l.units,
    l.deadApplicable ? l.dead.length : '-',
    l.deadApplicable ? l.dying.length : '-',
    l.deadApplicable ? l.units - l.dead.length - l.dying.length : '-',
    l.deadApplicable ? (l.dead.length ? l.dead.slice(0, 12).join(' ') + (l.dead.length > 12 ? ' …' : '') : '') : `(${l.reason ?? 'not ReLU'})`,
  ]);
  return formatTable(['Layer', 'Activation', 'Units', 'Dead', 'Dying', 'Alive', 'Dead units'], rows, ['left', 'left', 'right', 'right', 'right', 'right', 'left']);
}

function printScan(ctx: CliContext, r: ScanReport): void {
  ctx.stdout.write(
    `Scanned ${thousands(r.images)} images of ${r.dataset.path} in ${r.seconds.toFixed(1)} s (backend ${r.backend}); ` +
      `dead = never fires, dying = fires on < ${(r.dyingThreshold * 100).toFixed(2).replace(/\.?0+$/, '')}% of images\n\n`,
  );
  ctx.stdout.write(scanTable(r) + '\n');
  if (r.skipped.length) ctx.stdout.write(`\nSkipped ${r.skipped.length} file(s), e.g. ${r.skipped[0].file}: ${r.skipped[0].reason}\n`);
}

function printEvaluate(ctx: CliContext, r: EvaluateReport): void {
  ctx.stdout.write(`Accuracy ${(r.accuracy * 100).toFixed(2)}% on ${thousands(r.images)} images of ${r.dataset.path} (backend ${r.backend})\n\n`);
  const names = r.classNames ?? r.confusion.map((_, i) => String(i));
  const rows = r.confusion.map((row, i) => [names[i], ...row]);
  ctx.stdout.write('Confusion matrix (rows: true class, columns: predicted)\n');
  ctx.stdout.write(formatTable(['', ...names.map((_, i) => String(i))], rows, ['left', ...names.map(() => 'right' as const)]) + '\n');
}

function withProgress(ctx: CliContext, label: string) {
  const bar = new ProgressBar(label, ctx.stderr);
  return { bar, options: { signal: ctx.signal, onProgress: (d: number, t: number) => bar.update(d, t) } };
}

// ---------------------------------------------------------------------------------------------

export const COMMANDS: Record<string, Command> = {
  summary: {
    async run(ctx) {
      const r = await ctx.client.summary(ctx.model, { signal: ctx.signal });
      if (ctx.json) printJson(ctx, summaryJson(r));
      else printSummary(ctx, r);
    },
  },

  activations: {
    check(ctx) {
      if (!ctx.image && ctx.index === undefined) throw new UsageError('activations needs --image IMG, or --index N for an image of the dataset');
    },
    async run(ctx) {
      const r = await ctx.client.activations(
        { model: ctx.model, image: ctx.image, data: ctx.data, index: ctx.index, layers: ctx.layers },
        { signal: ctx.signal },
      );
      const written: string[] = [];
      if (ctx.out) {
        for (const l of r.layers) {
          const file = path.join(ctx.out, `activations-${safeFileName(l.layer)}.png`);
          await writeFileAtomic(file, encodePng(activationGrid(l)));
          written.push(file);
        }
      }
      if (ctx.json) {
        printJson(ctx, { ...activationsJson(r), files: written });
        return;
      }
      ctx.stdout.write(`Activations of ${r.image} (backend ${r.backend})\n\n`);
      const rows = r.layers.map((l) => {
        const c = l.channels;
        const mean = l.stats ? Array.from(l.stats.mean).reduce((a, b) => a + b, 0) / c : NaN;
        const zeros = l.stats ? Array.from(l.stats.zeroFraction).reduce((a, b) => a + b, 0) / c : NaN;
        return [l.layer, JSON.stringify(l.shape), l.activation, mean.toFixed(3), `${(zeros * 100).toFixed(1)}%`, l.deadApplicable ? l.deadChannels.length : '-'];
      });
      ctx.stdout.write(formatTable(['Layer', 'Shape', 'Activation', 'Mean', 'Zeros', 'Silent channels'], rows, ['left', 'left', 'left', 'right', 'right', 'right']) + '\n');
      if (written.length) ctx.stdout.write(`\nWrote ${written.length} PNG grid(s) to ${ctx.out}\n`);
    },
  },

  filters: {
    async run(ctx) {
      const r = await ctx.client.filters(ctx.model, ctx.layers, { signal: ctx.signal });
      const written: string[] = [];
      if (ctx.out) {
        for (const l of r.layers) {
          const file = path.join(ctx.out, `filters-${safeFileName(l.layer)}.png`);
          await writeFileAtomic(file, encodePng(filterGrid(l)));
          written.push(file);
        }
      }
      if (ctx.json) {
        printJson(ctx, { ...filtersJson(r), files: written });
        return;
      }
      const rows = r.layers.map((l) => {
        const scores = l.roughness.filter((s): s is number => s != null);
        const median = scores.length ? [...scores].sort((a, b) => a - b)[Math.floor(scores.length / 2)] : NaN;
        const z = l.layerStructureZ;
        return [l.layer, `${l.kernelHeight}×${l.kernelWidth}×${l.inChannels}`, l.filters, l.mode, Number.isNaN(median) ? '-' : median.toFixed(3), z == null ? '-' : z.toFixed(1), filterNoiseVerdict(l).cell];
      });
      ctx.stdout.write(
        `Filters (backend ${r.backend}). Roughness (Geary's C): 0 smooth, ≈1 like white noise. Layer z ≤ −${NOISY_Z}: smoother than noise.\n` +
          `Noisy: weights arranged no differently from a random arrangement (|z| < ${NOISY_Z}); kernels with too few weights are judged as a layer.\n\n`,
      );
      ctx.stdout.write(formatTable(['Layer', 'Kernel', 'Filters', 'Tiles', 'Median roughness', 'Layer z', 'Noisy'], rows, ['left', 'left', 'right', 'left', 'right', 'right', 'right']) + '\n');
      if (written.length) ctx.stdout.write(`\nWrote ${written.length} PNG grid(s) to ${ctx.out}\n`);
    },
  },

  scan: {
    async run(ctx) {
      const { bar, options } = withProgress(ctx, 'scan');
      const r = await ctx.client.scan(ctx.model, { data: ctx.data, limit: ctx.limit, batchSize: ctx.batchSize, dyingThreshold: ctx.dyingThreshold }, options);
      bar.finish();
      if (ctx.json) printJson(ctx, scanJson(r));
      else printScan(ctx, r);
    },
  },

  evaluate: {
    async run(ctx) {
      const { bar, options } = withProgress(ctx, 'evaluate');
      const r = await ctx.client.evaluate(ctx.model, { data: ctx.data, limit: ctx.limit, batchSize: ctx.batchSize }, options);
      bar.finish();
      if (ctx.json) printJson(ctx, evaluateJson(r));
      else printEvaluate(ctx, r);
    },
  },

  rf: rfCommand,

  erf: erfCommand,

  'train-head': trainHeadCommand,

  'fine-tune': fineTuneCommand,

  embed: embedCommand,

  report: {
    check(ctx) {
      if (!ctx.out) throw new UsageError('report needs --out DIR');
    },
    async run(ctx) {
      const summary = await ctx.client.summary(ctx.model, { signal: ctx.signal });
      const { bar, options } = withProgress(ctx, 'scan');
      const scan = await ctx.client.scan(ctx.model, { data: ctx.data, limit: ctx.limit, batchSize: ctx.batchSize, dyingThreshold: ctx.dyingThreshold }, options);
      bar.finish();
      const filters = await ctx.client.filters(ctx.model, ctx.layers, { signal: ctx.signal });
      // The sample image: --image, else the dataset's first image.
      const acts = await ctx.client.activations(
        ctx.image ? { model: ctx.model, image: ctx.image, layers: ctx.layers } : { model: ctx.model, data: scan.dataset.path, index: 0, layers: ctx.layers },
        { signal: ctx.signal },
      );
      const json = {
        summary: summaryJson(summary),
        scan: scanJson(scan),
        filters: filtersJson(filters),
        activations: activationsJson(acts),
      };
      const html = renderHtmlReport({ summary, scan, filters, activations: acts });
      await writeFileAtomic(path.join(ctx.out!, 'report.json'), JSON.stringify(json, null, 2) + '\n');
      await writeFileAtomic(path.join(ctx.out!, 'report.html'), html);
      if (ctx.json) {
        printJson(ctx, { out: path.resolve(ctx.out!), files: ['report.html', 'report.json'], ...json });
        return;
      }
      printSummary(ctx, summary);
      ctx.stdout.write('\nDead filters\n');
      printScan(ctx, scan);
      ctx.stdout.write(`\nReport written to ${path.resolve(ctx.out!, 'report.html')}\n`);
    },
  },
};
