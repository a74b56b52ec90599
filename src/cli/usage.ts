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
  Conv kernels as tiles with a smoothness score; noisy filters flagged. --out writes PNG grids.`,
  scan: `cnn-lens scan MODEL [--data DATA] [--limit N] [--dying-threshold F] [--batch-size N] [--json]
  Streams the dataset through the model and reports dead units (never fire) and dying units
  (fire on fewer than F of the images, default 0.01) for every conv/dense layer.`,
  evaluate: `cnn-lens evaluate MODEL [--data DATA] [--limit N] [--json]
  Accuracy and confusion matrix on labelled data.`,
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
