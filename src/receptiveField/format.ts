/**
 * Text for receptive fields in hovers and tables (pure; no `vscode` import): "5×5", "stride 2",
 * and the hover line "Receptive field: 5×5, stride 2 (ERF r90 ≈ 3.1 px)".
 */
import type { WireLayerReceptiveField } from '../protocol';

/** [h, w] as "5×5" (or "5×7"). */
export function formatPair([h, w]: readonly [number, number]): string {
  return `${h}×${w}`;
}

/** A stride or padding: "2" when both axes agree, else "2×1". */
export function formatAxes([h, w]: readonly [number, number]): string {
  return h === w ? String(h) : `${h}×${w}`;
}

/** The radius holding `fraction` of the ERF's mass, when computed. */
export function erfRadius(radii: readonly { fraction: number; radius: number }[] | undefined, fraction: number): number | undefined {
  return radii?.find((r) => Math.abs(r.fraction - fraction) < 1e-6)?.radius;
}

export function formatRadius(r: number | undefined): string {
  return r === undefined || !Number.isFinite(r) ? '—' : `${r.toFixed(1)} px`;
}

/** One hover line, e.g. "Receptive field: 5×5, stride 2 (ERF r90 ≈ 3.1 px)". */
export function receptiveFieldHoverLine(rf: WireLayerReceptiveField): string {
  if (rf.note && /^global/.test(rf.note)) return `Receptive field: ${formatPair(rf.size)} — global (every input pixel the layer sees)`;
  const parts = [`Receptive field: ${formatPair(rf.size)}, stride ${formatAxes(rf.stride)}`];
  if (rf.padding[0] !== 0 || rf.padding[1] !== 0) parts.push(`padding ${formatAxes(rf.padding)}`);
  let line = parts.join(', ');
  const r90 = erfRadius(rf.erfRadii, 0.9);
  if (r90 !== undefined) line += ` (ERF r90 ≈ ${r90.toFixed(1)} px)`;
  if (!rf.aligned) line += ' — branches not aligned, union of their fields';
  return line;
}
