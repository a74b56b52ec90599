/**
 * `cnn-lens erf MODEL --layer NAME (--data DATA | --image IMG) [--channel C] [--unit Y,X] [--limit N] [--out DIR] [--json]`:
 * the effective receptive field of one unit (Luo et al. 2016) beside its theoretical one, over
 * N dataset images (default 32) spread evenly over the dataset.
 * Without --layer: the ERF radii of the centre unit of every spatial layer, as a table.
 *
 * --out writes `erf-<layer>.png` (heat map over the mean input, theoretical box, radius circles)
 * and `erf-<layer>.json` (the result including the heat map); in table mode `erf-layers.json`.
 */
import * as path from 'path';
import type { Command, CliContext } from './commands';
import { safeFileName } from './commands';
import type { ErfJobResult, ErfRadiiJobResult } from '../engine/jobs';
import { writeFileAtomic } from '../engine/io/atomicWrite';
import { encodePng } from '../engine/render/png';
import { erfImage } from '../engine/render/erfImage';
import { formatTable } from '../engine/report/textTable';
import { ProgressBar } from './progressBar';
import { UsageError } from './usage';

/** The documented JSON document (README, "Command-line tool"): the result without the heat map and mean image. */
export function erfJson(r: ErfJobResult, files: string[]) {
  const { heatmap: _heatmap, meanInput: _meanInput, ...rest } = r;
  return { ...rest, files };
}

/** What `erf-<layer>.json` holds: the whole result, heat map as a row-major list (6 significant digits). */
function erfFileJson(r: ErfJobResult) {
  const { meanInput: _meanInput, heatmap, ...rest } = r;
  return { ...rest, heatmap: Array.from(heatmap, (v) => Number(v.toPrecision(6))) };
}

function px(v: number): string {
  return Number.isFinite(v) ? v.toFixed(2) : '-';
}

function hw(v: [number, number]): string {
  return v[0] === v[1] ? String(v[0]) : `${v[0]}×${v[1]}`;
}

function pct(f: number): string {
  return `${Number((f * 100).toFixed(1))}%`;
}

function sourceText(ctx: CliContext, r: { source: string; imagesUsed: string[] }): string {
  return ctx.image ? r.source : `${r.imagesUsed.length} image(s) of ${r.source}`;
}

function printResult(ctx: CliContext, r: ErfJobResult, files: string[]): void {
  const what = `unit (${r.unit.join(', ')}), ${r.channel === null ? 'all channels summed' : `channel ${r.channel}`}`;
  ctx.stdout.write(`Effective receptive field of ${r.layer} [${what}] over ${sourceText(ctx, r)} (backend ${r.backend})\n\n`);
  const rows: string[][] = [['output size', hw(r.outputSize)]];
  if (r.theoretical) {
    const [top, left, bottom, right] = r.theoretical.box;
    rows.push(['theoretical RF', `${hw(r.theoretical.size)} px, box rows ${top}…${bottom}, columns ${left}…${right} (stride ${hw(r.theoretical.stride)})`]);
  }
  rows.push(['ERF centre', Number.isFinite(r.centre[0]) ? `${px(r.centre[0])}, ${px(r.centre[1])}` : '-']);
  for (const { fraction, radius } of r.radii) rows.push([`ERF radius ${pct(fraction)}`, Number.isFinite(radius) ? `${px(radius)} px` : '-']);
  if (r.zeroGradientImages) rows.push(['zero gradient on', `${r.zeroGradientImages} of ${r.images} images`]);
  ctx.stdout.write(formatTable(['', ''], rows).split('\n').slice(2).join('\n') + '\n');
  if (r.note) ctx.stdout.write(`\nNote: ${r.note}\n`);
  if (r.skipped.length) ctx.stdout.write(`\nSkipped ${r.skipped.length} file(s), e.g. ${r.skipped[0].file}: ${r.skipped[0].reason}\n`);
  if (files.length) ctx.stdout.write(`\nWrote ${files.join(', ')}\n`);
}

function printTable(ctx: CliContext, r: ErfRadiiJobResult): void {
  ctx.stdout.write(
    `Effective receptive fields (centre unit, all channels summed) over ${sourceText(ctx, r)} (backend ${r.backend}); radii in input pixels around the theoretical centre\n\n`,
  );
  const rows = r.layers.map((l) => [
    l.layer,
    l.className,
    hw(l.outputSize),
    l.theoreticalSize ? hw(l.theoreticalSize) : '-',
    ...l.radii.map((x) => px(x.radius)),
    l.note && !Number.isFinite(l.radii[0]?.radius) ? l.note : '',
  ]);
  ctx.stdout.write(
    formatTable(
      ['Layer', 'Class', 'Output', 'RF size', ...r.fractions.map((f) => `ERF r${pct(f)}`), 'Note'],
      rows,
      ['left', 'left', 'right', 'right', ...r.fractions.map(() => 'right' as const), 'left'],
    ) + '\n',
  );
}

export const erfCommand: Command = {
  check(ctx) {
    if (ctx.image && ctx.data) throw new UsageError('erf takes --image IMG or --data DATA, not both');
    if ((ctx.layers?.length ?? 0) > 1) throw new UsageError('erf takes one --layer NAME (leave it out for the table of every spatial layer)');
    if (!ctx.layers?.length && (ctx.channel !== undefined || ctx.unit !== undefined)) throw new UsageError('--channel and --unit need --layer NAME');
  },
  async run(ctx) {
    const bar = new ProgressBar('erf', ctx.stderr);
    const options = { signal: ctx.signal, onProgress: (d: number, t: number) => bar.update(d, t) };
    const images = { model: ctx.model, image: ctx.image, data: ctx.data, limit: ctx.limit };
    const files: string[] = [];

    if (!ctx.layers?.length) {
      const r = await ctx.client.erfRadiiPerLayer(images, options);
      bar.finish();
      if (ctx.out) {
        const file = path.join(ctx.out, 'erf-layers.json');
        await writeFileAtomic(file, JSON.stringify(r, null, 2) + '\n');
        files.push(file);
      }
      if (ctx.json) ctx.stdout.write(JSON.stringify({ ...r, files }, null, 2) + '\n');
      else {
        printTable(ctx, r);
        if (files.length) ctx.stdout.write(`\nWrote ${files.join(', ')}\n`);
      }
      return;
    }

    const r = await ctx.client.effectiveReceptiveField({ ...images, layer: ctx.layers[0], channel: ctx.channel, unit: ctx.unit }, options);
    bar.finish();
    if (ctx.out) {
      const base = path.join(ctx.out, `erf-${safeFileName(r.layer)}`);
      await writeFileAtomic(`${base}.png`, encodePng(erfImage(r, r.meanInput, r.inputShape[2])));
      await writeFileAtomic(`${base}.json`, JSON.stringify(erfFileJson(r), null, 2) + '\n');
      files.push(`${base}.png`, `${base}.json`);
    }
    if (ctx.json) ctx.stdout.write(JSON.stringify(erfJson(r, files), null, 2) + '\n');
    else printResult(ctx, r, files);
  },
};
