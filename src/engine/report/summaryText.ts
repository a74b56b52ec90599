/** The model summary as a plain-text table (CLI output, VS Code output channel). */
import type { SummaryJobResult } from '../jobs';
import { formatTable, si, thousands } from './textTable';

export function formatSummaryText(r: SummaryJobResult): string {
  const s = r.summary;
  const rows = s.layers.map((l) => [
    l.name,
    l.className,
    JSON.stringify(l.outputShape.slice(1)).replace(/,/g, ', '),
    thousands(l.params),
    l.activation ?? '',
    l.flops == null ? '?' : si(l.flops),
  ]);
  return (
    `Model ${s.path} (${s.format}), input ${s.input.height}×${s.input.width}×${s.input.channels}, backend ${r.backend}\n\n` +
    formatTable(['Layer', 'Class', 'Output', 'Params', 'Activation', 'FLOPs'], rows, ['left', 'left', 'left', 'right', 'left', 'right']) +
    '\n\n' +
    `Total params: ${thousands(s.totals.params)} (trainable ${thousands(s.totals.trainableParams)}, non-trainable ${thousands(s.totals.nonTrainableParams)})\n` +
    `Total FLOPs per image: ${si(s.totals.flops)} (multiply-add = 2)` +
    (s.totals.uncountedLayers.length ? `; not counted: ${s.totals.uncountedLayers.join(', ')}` : '') +
    '\n'
  );
}
