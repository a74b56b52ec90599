/**
 * Raw bytes of one weight in a TF.js Layers model folder, located through model.json's weights
 * manifest: lets the transfer tests compare frozen weights byte for byte with the source's.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const BYTES: Record<string, number> = { float32: 4, int32: 4, uint8: 1, uint16: 2, float16: 2, bool: 1 };

export function weightBytes(modelJson: string, name: string): Buffer {
  const json = JSON.parse(fs.readFileSync(modelJson, 'utf8')) as { weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: string }[] }[] };
  for (const group of json.weightsManifest) {
    const data = Buffer.concat(group.paths.map((p) => fs.readFileSync(path.join(path.dirname(modelJson), p))));
    let offset = 0;
    for (const w of group.weights) {
      const size = w.shape.reduce((a, b) => a * b, 1) * BYTES[w.dtype];
      if (w.name === name) return data.subarray(offset, offset + size);
      offset += size;
    }
  }
  throw new Error(`${modelJson}: no weight named ${name}`);
}
