/**
 * `cnn-lens rf MODEL [--layer NAME ...] [--json]`: the theoretical receptive field of every layer
 * (size, effective stride, effective padding; google-research/receptive_field semantics).
 */
import type { Command, CliContext } from './commands';
import type { ReceptiveFieldJobResult } from '../engine/jobs';
import { formatTable } from '../engine/report/textTable';

/** The documented JSON document (README, "Command-line tool"). */
export function rfJson(r: ReceptiveFieldJobResult) {
  return {
    backend: r.backend,
    model: r.model,
    input: r.input,
    layers: r.layers.map((l) => ({
      name: l.name,
      className: l.className,
      size: l.size,
      stride: l.stride,
      padding: l.padding,
      aligned: l.aligned,
      ...(l.note ? { note: l.note } : {}),
    })),
  };
}

/** "35" when both axes agree, "35×33" (h×w) otherwise. */
function hw(v: [number, number]): string {
  return v[0] === v[1] ? String(v[0]) : `${v[0]}×${v[1]}`;
}

export function rfTable(r: ReceptiveFieldJobResult): string {
  const rows = r.layers.map((l) => [l.name, l.className, hw(l.size), hw(l.stride), hw(l.padding), l.aligned ? '' : 'no', l.note ?? '']);
  return formatTable(['Layer', 'Class', 'RF size', 'Stride', 'Padding', 'Aligned', 'Note'], rows, ['left', 'left', 'right', 'right', 'right', 'left', 'left']);
}

/** Keeps the layers named by --layer, in the order asked; an unknown name is an error naming the model. */
function selectLayers(ctx: CliContext, r: ReceptiveFieldJobResult): ReceptiveFieldJobResult {
  if (!ctx.layers?.length) return r;
  const byName = new Map(r.layers.map((l) => [l.name, l]));
  const layers = ctx.layers.map((name) => {
    const l = byName.get(name);
    if (!l) throw new Error(`${r.model}: no layer named "${name}"`);
    return l;
  });
  return { ...r, layers };
}

export const rfCommand: Command = {
  async run(ctx) {
    const r = selectLayers(ctx, await ctx.client.receptiveField(ctx.model, { signal: ctx.signal }));
    if (ctx.json) {
      ctx.stdout.write(JSON.stringify(rfJson(r), null, 2) + '\n');
      return;
    }
    ctx.stdout.write(
      `Receptive fields of ${r.model} (input ${r.input[0]}×${r.input[1]}; sizes, strides and padding in input pixels, h×w when they differ)\n\n`,
    );
    ctx.stdout.write(rfTable(r) + '\n');
  },
};
