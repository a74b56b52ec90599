/**
 * Words for a conv layer's noise verdict (see `../analyses/filterRoughness.ts`), shared by
 * the Filters view, the CLI table and the HTML report so all three say the same thing. No imports:
 * the webview bundle takes it through `src/protocol`.
 */
export interface FilterNoiseFacts {
  filters: number;
  kernelHeight: number;
  kernelWidth: number;
  inChannels: number;
  noisy: boolean[];
  noisyZ: number;
  perFilterTest: boolean;
  layerRoughness: number | null;
  layerStructureZ: number | null;
}

export interface FilterNoiseVerdict {
  /** Short cell text: the noisy count, or the layer's verdict where filters are not judged alone. */
  cell: string;
  /** Whether the cell deserves a warning colour. */
  warn: boolean;
  /** One sentence on the whole layer. */
  layer: string;
  /** One sentence on the per-filter flags, or why there are none. */
  filters: string;
}

const fmtZ = (z: number): string => (z < 0 ? `−${(-z).toFixed(1)}` : z.toFixed(1));

export function filterNoiseVerdict(l: FilterNoiseFacts): FilterNoiseVerdict {
  const c = l.layerRoughness;
  const z = l.layerStructureZ;
  let layer: string;
  let layerNoisy = false;
  if (c === null) layer = 'The layer has no neighbouring weights to compare (1×1 kernels).';
  else if (z === null) layer = `As a layer, roughness ${c.toFixed(2)}; kernels this small cannot be tested against noise.`;
  else if (z <= -l.noisyZ) layer = `As a layer, smoother than noise (roughness ${c.toFixed(2)}, z ${fmtZ(z)}).`;
  else if (z >= l.noisyZ) layer = `As a layer, neighbouring weights alternate more than noise would (roughness ${c.toFixed(2)}, z ${fmtZ(z)}).`;
  else {
    layer = `As a layer, indistinguishable from noise (roughness ${c.toFixed(2)}, z ${fmtZ(z)}).`;
    layerNoisy = true;
  }
  const count = l.noisy.filter(Boolean).length;
  if (!l.perFilterTest) {
    const n = l.kernelHeight * l.kernelWidth * l.inChannels;
    return {
      cell: c === null || z === null ? '–' : layerNoisy ? 'layer noisy' : 'layer ok',
      warn: layerNoisy,
      layer,
      filters:
        c === null
          ? `${l.kernelHeight}×${l.kernelWidth} kernels have no spatial layout to judge.`
          : `${l.kernelHeight}×${l.kernelWidth}×${l.inChannels} kernels hold ${n} weights each: too few to tell one filter from noise, so only the layer is judged.`,
    };
  }
  return {
    cell: String(count),
    warn: count > 0 || layerNoisy,
    layer,
    filters: `${count} of ${l.filters} filters noisy: their weights are arranged no differently from a random arrangement (|z| < ${l.noisyZ}).`,
  };
}
