/**
 * The optional PyTorch reference processes of the benchmarks (bench/torch_reference.py for run.ts,
 * bench/torch_train_step.py for training.ts): whether torch is importable, the environment they
 * run in, and the line protocol of their `--serve` mode. The project never needs Python.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as readline from 'node:readline';

export const PYTHON = '/usr/bin/python3';

/** Why the reference cannot run (to put in the JSON's `skipped`), or undefined when it can. */
export function torchUnavailable(): string | undefined {
  if (!fs.existsSync(PYTHON)) return `${PYTHON} not found; the PyTorch reference is optional (apt-get install python3-torch to enable it)`;
  const r = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8', timeout: 120_000, env: torchEnv() });
  if (r.status !== 0) {
    const why = (r.stderr || r.error?.message || '').trim().split('\n').pop();
    return `${PYTHON} cannot import torch/numpy (${why}); the PyTorch reference is optional (apt-get install python3-torch to enable it)`;
  }
  return undefined;
}

/**
 * Two environment effects make Debian's PyTorch on this VM far slower than PyTorch normally is,
 * so the reference is run "tuned" (the number the ratio is computed against) and "stock":
 *  - BLAS: python3-torch calls the system `libblas.so.3`, the unoptimised reference BLAS unless
 *    OpenBLAS is installed and selected (Dense layers ~5-25x slower). When Debian's OpenBLAS is
 *    present (libopenblas0-pthread), the tuned run gets it through LD_LIBRARY_PATH for this one
 *    process, without changing the system default.
 *  - Page faults: glibc malloc hands PyTorch's multi-MB activations fresh mmap'ed pages on every
 *    call and each first touch faults; a fault costs ~15-20 us in this microVM, which made one
 *    0.3 ms convolution take 20-90 ms. The tuned run keeps freed memory in the heap
 *    (MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ / MALLOC_TOP_PAD_, what jemalloc/tcmalloc
 *    give PyTorch deployments). TF.js's wasm heap is allocated once, so it never pays this.
 */
const OPENBLAS_DIR = '/usr/lib/x86_64-linux-gnu/openblas-pthread';
const TUNED_MALLOC = { MALLOC_MMAP_THRESHOLD_: '33554432', MALLOC_TRIM_THRESHOLD_: '1073741824', MALLOC_TOP_PAD_: '268435456' };

export type TorchSetup = 'tuned' | 'stock';

/** The environment of a reference process: 2 threads, and for `tuned` OpenBLAS and the malloc settings. */
export function torchEnv(setup: TorchSetup = 'tuned'): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, OMP_NUM_THREADS: '2', OPENBLAS_NUM_THREADS: '2', MKL_NUM_THREADS: '2' };
  if (setup === 'tuned') {
    Object.assign(env, TUNED_MALLOC);
    if (fs.existsSync(path.join(OPENBLAS_DIR, 'libblas.so.3'))) {
      env.LD_LIBRARY_PATH = env.LD_LIBRARY_PATH ? `${OPENBLAS_DIR}:${env.LD_LIBRARY_PATH}` : OPENBLAS_DIR;
    }
  }
  return env;
}

/** The environment variables a setup adds (for the JSON). */
export function torchEnvDiff(setup: TorchSetup): Record<string, string> {
  const env = torchEnv(setup);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && process.env[k] !== v) out[k] = v;
  return out;
}

/**
 * A reference script in `--serve` mode (tuned environment): it prints its set-up as one JSON line,
 * then answers each command line on stdin (one timed repetition) with one JSON line.
 */
export class TorchServer {
  private readonly lines: string[] = [];
  private readonly waiters: { resolve: (l: string) => void; reject: (e: Error) => void }[] = [];
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly name: string;
  private stderr = '';
  private exited?: Error;

  /** `argv`: the script and its arguments; `timeoutMs`: how long one answer may take. */
  constructor(argv: string[], private readonly timeoutMs: number) {
    this.name = path.basename(argv[0]);
    this.child = spawn(PYTHON, argv, { env: torchEnv('tuned'), stdio: ['pipe', 'pipe', 'pipe'] });
    readline.createInterface({ input: this.child.stdout }).on('line', (l) => {
      const w = this.waiters.shift();
      if (w) w.resolve(l);
      else this.lines.push(l);
    });
    this.child.stderr.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    this.child.on('exit', (code, signal) => {
      this.exited = new Error(`${this.name} exited (${code ?? signal}): ${this.stderr.trim().slice(-2000)}`);
      for (const w of this.waiters.splice(0)) w.reject(this.exited);
    });
  }

  next(): Promise<Record<string, unknown>> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(JSON.parse(line) as Record<string, unknown>);
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name} did not answer in time`)), this.timeoutMs);
      this.waiters.push({
        resolve: (l) => {
          clearTimeout(timer);
          resolve(JSON.parse(l) as Record<string, unknown>);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  async ask(cmd: string): Promise<Record<string, unknown>> {
    this.child.stdin.write(cmd + '\n');
    const r = await this.next();
    if (typeof r.error === 'string') throw new Error(`${this.name}: ${r.error}`);
    return r;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Asks the script to end without waiting for an answer (torch_train_step.py sends none). */
  quit(): void {
    if (!this.exited) this.child.stdin.end('quit\n');
  }

  close(): void {
    if (!this.exited) this.child.kill();
  }
}
