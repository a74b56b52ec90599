/**
 * Machine load for the benchmarks: how many cores *other* processes used while a case ran. The
 * VM is shared, so every bench records it next to its timings (`otherCores`, `contention`).
 *
 * Other cores = (system busy jiffies from /proc/stat − this process's own jiffies, its reaped
 * children's, and those of a running child it names) ÷ wall jiffies per CPU. Off Linux (no /proc)
 * every reading is `undefined` and the benches simply record nothing.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { performance } from 'node:perf_hooks';
import { round } from './benchUtil';

interface ProcStat {
  /** utime + stime of all its threads. */
  ticks: number;
  /** cutime + cstime: its children that have exited and been waited for. */
  childTicks: number;
  ppid: number;
  comm: string;
  /** Start time (jiffies after boot): with the pid, identifies the process across snapshots. */
  start: number;
}

function readProcStat(pid: string | number): ProcStat | undefined {
  let s: string;
  try {
    s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // exited, or not Linux
  }
  const close = s.lastIndexOf(')');
  const comm = s.slice(s.indexOf('(') + 1, close);
  const f = s.slice(close + 2).split(' ');
  // After "pid (comm) ": f[0] state, f[1] ppid, f[11] utime, f[12] stime, f[13] cutime, f[14] cstime,
  // f[19] starttime. (comm is not an identity: kernel workers rename themselves as they work.)
  return { comm, ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]), childTicks: Number(f[13]) + Number(f[14]), start: Number(f[19]) };
}

/** System and own CPU jiffies at one moment (a few small /proc reads: cheap enough per repetition). */
export interface CpuTimes {
  /** From the `cpu` line of /proc/stat. */
  sysBusy: number;
  sysTotal: number;
  /** This process (all threads), its reaped children, and the running child passed in. */
  own: number;
}

/**
 * `childPid`: a running child of ours (e.g. the PyTorch reference), not yet reaped and so not in
 * our own child times, whose CPU also counts as ours.
 */
export function cpuTimes(childPid?: number): CpuTimes | undefined {
  try {
    const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0);
    const self = readProcStat('self');
    const child = childPid ? readProcStat(childPid) : undefined;
    const own = (self ? self.ticks + self.childTicks : 0) + (child ? child.ticks + child.childTicks : 0);
    return { sysBusy: total - cpu[3] - (cpu[4] ?? 0), sysTotal: total, own };
  } catch {
    return undefined; // not Linux
  }
}

/** Average cores other processes used between two readings (not rounded). */
export function otherCores(a: CpuTimes | undefined, b: CpuTimes | undefined): number | undefined {
  if (!a || !b) return undefined;
  const wallTicks = (b.sysTotal - a.sysTotal) / os.cpus().length;
  if (wallTicks <= 0) return undefined;
  return Math.max(0, b.sysBusy - a.sysBusy - (b.own - a.own)) / wallTicks;
}

// ---------------------------------------------------------------------------------------------
// Who the other processes were (a full /proc scan: for whole cases, not every repetition)

export interface LoadSnapshot extends CpuTimes {
  procs: Map<number, Omit<ProcStat, 'childTicks'>>;
}

export function loadSnapshot(): LoadSnapshot | undefined {
  const times = cpuTimes();
  if (!times) return undefined;
  const procs: LoadSnapshot['procs'] = new Map();
  try {
    for (const name of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      const p = readProcStat(name);
      if (p) procs.set(Number(name), { ticks: p.ticks, ppid: p.ppid, comm: p.comm, start: p.start });
    }
  } catch {
    return undefined;
  }
  return { ...times, procs };
}

export interface BusyProcess {
  pid: number;
  command: string;
  /** Average cores used during the case. */
  cores: number;
}

export interface Contention {
  /** Average number of cores used by other processes while the case ran. */
  otherCores: number;
  /** The same, for each timed repetition (in order). */
  perRepetition?: number[];
  /** Processes (not this one or its children) that used more than 0.1 core on average. */
  busyProcesses: BusyProcess[];
}

function commandLine(pid: number, fallback: string): string {
  try {
    const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').replace(/\0/g, ' ');
    return (cmd || fallback).slice(0, 120);
  } catch {
    return fallback;
  }
}

export function contention(a: LoadSnapshot | undefined, b: LoadSnapshot | undefined): Contention | undefined {
  const other = otherCores(a, b);
  if (!a || !b || other === undefined) return undefined;
  const wallTicks = (b.sysTotal - a.sysTotal) / os.cpus().length;
  const ours = new Set<number>([process.pid]);
  // Our descendants (worker threads are threads, but python is a child process).
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, p] of b.procs) {
      if (!ours.has(pid) && ours.has(p.ppid)) {
        ours.add(pid);
        grew = true;
      }
    }
  }
  const busyProcesses: BusyProcess[] = [];
  for (const [pid, p] of b.procs) {
    if (ours.has(pid)) continue;
    const before = a.procs.get(pid);
    const delta = p.ticks - (before && before.start === p.start ? before.ticks : 0);
    const cores = delta / wallTicks;
    if (cores > 0.1) busyProcesses.push({ pid, command: commandLine(pid, p.comm), cores: round(cores, 2) });
  }
  busyProcesses.sort((x, y) => y.cores - x.cores);
  return { otherCores: round(other, 2), busyProcesses };
}

/** The other processes busy right now: a sample of `ms` (blocking this thread meanwhile). */
export function busyProcessesNow(ms = 1000): BusyProcess[] {
  const a = loadSnapshot();
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  return contention(a, loadSnapshot())?.busyProcesses ?? [];
}

// ---------------------------------------------------------------------------------------------
// `--wait-quiet S`: before a timed repetition, wait (up to S) for the other processes to calm down

/** Other processes below this many cores count as quiet. */
export const QUIET_THRESHOLD = 0.15;

export class QuietWaiter {
  /** What the waits cost, for the JSON (`settings.quietWaits` in run.ts); `redone` counts the
   *  repetitions a caller ran again because they were disturbed. */
  readonly stats = { waits: 0, waitedMs: 0, timeouts: 0, redone: 0 };

  /** `maxWaitMs` 0: never wait. */
  constructor(readonly maxWaitMs: number) {}

  /** Returns once other processes used < QUIET_THRESHOLD cores for 1 s in a row (4 × 250 ms), or after `maxWaitMs`. */
  async wait(): Promise<void> {
    if (this.maxWaitMs <= 0) return;
    const t0 = performance.now();
    let calm = 0;
    this.stats.waits++;
    while (performance.now() - t0 < this.maxWaitMs) {
      const a = cpuTimes();
      await new Promise((r) => setTimeout(r, 250));
      const load = otherCores(a, cpuTimes());
      if (load === undefined) return;
      calm = load < QUIET_THRESHOLD ? calm + 1 : 0;
      if (calm >= 4) {
        this.stats.waitedMs += performance.now() - t0;
        return;
      }
    }
    this.stats.waitedMs += performance.now() - t0;
    this.stats.timeouts++;
  }
}
