/** Help text of the CLI, and the error type for bad arguments (exit code 2). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const COMMON = `Common options:
  --json                 one JSON document on stdout
  --backend NAME         auto | tensorflow | wasm | cpu (default auto; env CNN_LENS_BACKEND)
  --workers N            worker threads for dataset-wide work (default: one per core)
  --verbose              stack traces on errors
  -h, --help             this help`;

const COMMAND_HELP: Record<string, string> = {
  summary: `cnn-lens summary MODEL [--json]
  Every layer with class, output shape, parameters, activation and FLOPs (multiply-add = 2).`,
  activations: `cnn-lens activations MODEL (--image IMG | [--data DATA] --index N) [--layer NAME ...] [--out DIR] [--json]
  Feature maps of the given layers (default: every conv/dense layer) for one image (a file, or
  item N of the dataset), with
  per-channel mean / max / fraction of zeros. --out writes one PNG grid per layer.`,
  filters: `cnn-lens filters MODEL [--layer NAME ...] [--out DIR] [--json]
  Conv kernels as tiles with a roughness score per filter (Geary's C) and the noisy ones. --out writes PNG grids.`,
  scan: `cnn-lens scan MODEL [--data DATA] [--limit N] [--dying-threshold F] [--batch-size N] [--json]
  Streams the dataset through the model and reports dead units (never fire) and dying units
  (fire on fewer than F of the images, default 0.01) for every conv/dense layer.`,
  rf: `cnn-lens rf MODEL [--layer NAME ...] [--json]
  Theoretical receptive field of every layer (or the named ones): size, effective stride and
  effective padding in input pixels, as google-research/receptive_field defines them; merges whose
  branches are not aligned are flagged.`,
  erf: `cnn-lens erf MODEL [--layer NAME] [--data DATA | --image IMG] [--channel C] [--unit Y,X] [--limit N] [--out DIR] [--json]
  Effective receptive field (Luo et al. 2016): mean |gradient| of one unit of the layer (default
  the centre unit, all channels summed) with respect to the input over N images (default 32,
  spread evenly over the dataset), its centre and the radii holding 50% / 90% of it, beside the
  theoretical field. --out writes erf-<layer>.png (heat map over the mean image, theoretical
  box) and erf-<layer>.json. Without --layer: the ERF radii of every spatial layer as a table.`,
  evaluate: `cnn-lens evaluate MODEL [--data DATA] [--limit N] [--json]
  Accuracy and confusion matrix on labelled data; --limit N takes N images spread evenly over it.`,
  'train-head': `cnn-lens train-head MODEL --data DIR --out DIR [--cut-at LAYER] [--hidden N] [--epochs N] [--batch-size N]
                  [--learning-rate F] [--validation-split F] [--seed N] [--patience N] [--json]
  Transfer learning: keeps the model up to LAYER (default: the input of its last Dense layer),
  frozen, and trains a new softmax head (optional hidden Dense of N units) over the class
  sub-folders of DIR, on features of the base computed once. Saves base + head as a new model
  folder OUT (must not exist). Defaults: 50 epochs, batch 32, lr 0.01, 15% validation, patience 3.`,
  'fine-tune': `cnn-lens fine-tune MODEL --data DIR --out DIR [--unfreeze N | --from-layer NAME] [--augment] [--epochs N]
                 [--batch-size N] [--learning-rate F] [--validation-split F] [--seed N] [--patience N] [--json]
  Retrains the top N layers with weights (default 2) or every layer from NAME on, at a low
  learning rate (default 0.0001), BatchNormalization frozen; --augment adds random flips and
  shifts. Class folders must be the model's classes. Saves a new model folder OUT.
  Ctrl-C stops at the next batch and saves the best epoch so far (exit code 130).`,
  embed: `cnn-lens embed MODEL [--data DATA] [--layer NAME] [--method tsne|pca|umap] [--limit N] [--out FILE.png|DIR] [--json]
                 [--perplexity F] [--iterations N] [--learning-rate F|auto] [--seed N]
  The codes of a layer (default: the input of the last Dense layer; conv outputs averaged per
  channel) for N images (default all; fewer are spread evenly over the dataset, so every class
  is represented), projected to 2-D by t-SNE (default), PCA or UMAP, with the 10-NN
  accuracy in 2-D and the trustworthiness (k = 10). --out writes a scatter plot coloured by class.
  t-SNE defaults: perplexity 30, 750 iterations, learning rate max(N/12, 200), seed 42.`,
  report: `cnn-lens report MODEL [--data DATA] [--image IMG] [--limit N] --out DIR
  One self-contained HTML page (summary, filters, activations of a sample image, dead filters)
  plus report.json in DIR.`,
};

export function usage(command?: string): string {
  if (command && COMMAND_HELP[command]) return `Usage: ${COMMAND_HELP[command]}\n\n${COMMON}\n`;
  return `Usage: cnn-lens COMMAND MODEL [options]

MODEL is a TF.js model.json (Layers or Graph format), a Keras .h5 or a Keras 3 .keras file.
DATA is a folder of class sub-folders of PNG/JPEG images, a flat folder of images, or an IDX
images file (labels found beside it); default: "dataset" from cnnlens.json beside the model.

Commands:
${Object.values(COMMAND_HELP)
  .map((h) => '  ' + h.replace(/\n/g, '\n  '))
  .join('\n\n')}

${COMMON}
`;
}
