import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { CLOCK_TICKS, parseStat } from './procfs';

/** One process as a /proc scan saw it: its parent and its CPU so far (own + reaped children), in clock ticks. */
export interface ProcSample {
  ppid: number;
  ticks: number;
}

/** Whether `pid` descends from `root` (or is it), following the parent links of one scan. */
export function inTree(pid: number, root: number, ppidOf: (pid: number) => number | undefined): boolean {
  let current: number | undefined = pid;
  for (let depth = 0; current !== undefined && current > 0 && depth < 64; depth += 1) {
    if (current === root) return true;
    current = ppidOf(current);
  }
  return false;
}

/**
 * CPU used by processes that are neither the harness's nor kernel threads, from successive
 * scans of /proc: whatever else runs on the machine during a benchmark.
 *
 * Each scan sums own + reaped children's CPU over every such process, init included. When a
 * process ends, its parent takes its CPU into its children's time, so the sum only moves with
 * CPU really used, however short-lived the processes are that used it.
 */
export class ForeignCpu {
  private previous: number | null = null;
  /** Foreign CPU so far, in clock ticks. */
  totalTicks = 0;

  constructor(private readonly root: number) {}

  /** The sum over the foreign processes of one scan. */
  foreignTicks(scan: ReadonlyMap<number, ProcSample>): number {
    const ppidOf = (pid: number): number | undefined => scan.get(pid)?.ppid;
    let sum = 0;
    for (const [pid, sample] of scan) {
      // kthreadd (2) and its children are the kernel's own threads.
      if (pid === 2 || sample.ppid === 2 || inTree(pid, this.root, ppidOf)) continue;
      sum += sample.ticks;
    }
    return sum;
  }

  ingest(scan: ReadonlyMap<number, ProcSample>): void {
    const current = this.foreignTicks(scan);
    // A drop (a pid reused, a process of ours reaped by another) is not negative work.
    if (this.previous !== null && current > this.previous) this.totalTicks += current - this.previous;
    this.previous = current;
  }
}

function scanProc(): Map<number, ProcSample> {
  const scan = new Map<number, ProcSample>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = parseStat(readFileSync(`/proc/${entry}/stat`, 'latin1'));
      scan.set(Number(entry), { ppid: stat.ppid, ticks: stat.utimeTicks + stat.stimeTicks + stat.cutimeTicks + stat.cstimeTicks });
    } catch {
      // ended between the listing and the read
    }
  }
  return scan;
}

/** Samples /proc every `intervalMs` while the benchmark runs; checkpoints say how busy everyone else kept the cores. */
export class ForeignLoadMonitor {
  private readonly foreign = new ForeignCpu(process.pid);
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly cores: number,
    private readonly intervalMs = 1000,
  ) {}

  start(): void {
    this.foreign.ingest(scanProc());
    this.timer = setInterval(() => this.foreign.ingest(scanProc()), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  checkpoint(): { ticks: number; at: number } {
    this.foreign.ingest(scanProc());
    return { ticks: this.foreign.totalTicks, at: performance.now() };
  }

  /** Share of all cores (0–1) that other processes used since `from`. */
  shareSince(from: { ticks: number; at: number }): number {
    const now = this.checkpoint();
    const ms = ((now.ticks - from.ticks) * 1000) / CLOCK_TICKS;
    return now.at > from.at ? ms / ((now.at - from.at) * this.cores) : 0;
  }
}
