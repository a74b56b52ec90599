/**
 * `cnn-lens`: the engine as a command-line tool, for CI pipelines and remote machines.
 * Parses arguments, runs the command in engine workers, prints text or one JSON document.
 * Errors: one line on stderr naming the file and the problem, exit 1 (2 for bad arguments);
 * the stack only with --verbose.
 */
import { parseArgs } from 'util';
import { EngineClient } from './engine/client';
import { CancelledError, EngineError } from './engine/workerPool';
import { isBackendPreference, BACKEND_PREFERENCES } from './engine/backendNames';
import { COMMANDS, type CliContext } from './cli/commands';
import { UsageError, usage } from './cli/usage';

const VERSION = '0.1.0';

const OPTIONS = {
  json: { type: 'boolean' },
  out: { type: 'string' },
  layer: { type: 'string', multiple: true },
  image: { type: 'string' },
  index: { type: 'string' },
  data: { type: 'string' },
  limit: { type: 'string' },
  'batch-size': { type: 'string' },
  'dying-threshold': { type: 'string' },
  channel: { type: 'string' },
  unit: { type: 'string' },
  'cut-at': { type: 'string' },
  hidden: { type: 'string' },
  epochs: { type: 'string' },
  'learning-rate': { type: 'string' },
  'validation-split': { type: 'string' },
  seed: { type: 'string' },
  patience: { type: 'string' },
  unfreeze: { type: 'string' },
  'from-layer': { type: 'string' },
  augment: { type: 'boolean' },
  method: { type: 'string' },
  perplexity: { type: 'string' },
  iterations: { type: 'string' },
  backend: { type: 'string' },
  workers: { type: 'string' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

function positiveInt(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive integer (got "${value}")`);
  return n;
}

function nonNegativeInt(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a whole number ≥ 0 (got "${value}")`);
  return n;
}

/** --unit Y,X: an output position, two whole numbers ≥ 0. */
function unitPosition(value: string | undefined): [number, number] | undefined {
  if (value === undefined) return undefined;
  const parts = value.split(',').map((s) => s.trim());
  const nums = parts.map(Number);
  if (parts.length !== 2 || parts.some((s) => s === '') || nums.some((n) => !Number.isInteger(n) || n < 0)) {
    throw new UsageError(`--unit must be Y,X with two whole numbers ≥ 0 (got "${value}")`);
  }
  return [nums[0], nums[1]];
}

function fraction(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n >= 1) throw new UsageError(`--${name} must be a number in [0, 1) (got "${value}")`);
  return n;
}

async function main(argv: string[]): Promise<number> {
  let verbose = argv.includes('--verbose');
  let client: EngineClient | undefined;
  try {
    const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    verbose = !!values.verbose;
    if (values.version) {
      process.stdout.write(`cnn-lens ${VERSION}\n`);
      return 0;
    }
    const [name, ...rest] = positionals;
    if (values.help || !name) {
      process.stdout.write(usage(name));
      return name || values.help ? 0 : 2;
    }
    const command = COMMANDS[name];
    if (!command) throw new UsageError(`unknown command "${name}"`);
    if (rest.length !== 1) throw new UsageError(`${name} takes exactly one MODEL argument`);
    const backend = values.backend ?? process.env.CNN_LENS_BACKEND ?? 'auto';
    if (!isBackendPreference(backend)) throw new UsageError(`--backend must be one of ${BACKEND_PREFERENCES.join(', ')} (got "${backend}")`);

    const ctx: CliContext = {
      model: rest[0],
      json: !!values.json,
      out: values.out,
      layers: values.layer,
      image: values.image,
      index: nonNegativeInt('index', values.index),
      data: values.data,
      limit: positiveInt('limit', values.limit),
      batchSize: positiveInt('batch-size', values['batch-size']),
      dyingThreshold: fraction('dying-threshold', values['dying-threshold']),
      channel: nonNegativeInt('channel', values.channel),
      unit: unitPosition(values.unit),
      options: values,
      stdout: process.stdout,
      stderr: process.stderr,
      signal: new AbortController().signal,
      client: undefined as unknown as EngineClient,
    };
    command.check?.(ctx);
    const controller = new AbortController();
    process.once('SIGINT', () => controller.abort());
    client = new EngineClient({
      backend,
      workers: positiveInt('workers', values.workers),
      onLog: (level, message) => process.stderr.write(`${level === 'warn' ? 'warning' : 'info'}: ${message}\n`),
    });
    ctx.client = client;
    ctx.signal = controller.signal;
    await command.run(ctx);
    return 0;
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`cnn-lens: ${(err as Error).message}\nRun "cnn-lens --help" for usage.\n`);
      return 2;
    }
    if (err instanceof CancelledError) {
      process.stderr.write('cnn-lens: cancelled\n');
      return 130;
    }
    const e = err as Error;
    process.stderr.write(`cnn-lens: ${e.message.split('\n')[0]}\n`);
    if (verbose) process.stderr.write(`${(err instanceof EngineError && err.workerStack) || e.stack}\n`);
    return 1;
  } finally {
    await client?.dispose();
  }
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
