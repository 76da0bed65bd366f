import { performance } from 'node:perf_hooks';
import { formatMs, formatPercent, type Table } from '../format';
import { kernelThreadsMs, machineBusyMs, machineIrqMs } from '../procfs';
import { ratio } from '../stats';

/** CPU inside measuring windows, by component, per completed execution (or `node -e 0`). */
export interface CpuAccount {
  executions: number;
  /** Component → CPU ms per execution, in the order they should be shown. */
  perExecutionMs: [string, number][];
  /** Every core's busy time (from /proc/stat) per execution, ms. */
  machinePerExecutionMs: number;
  /** Of that, hard and soft interrupts (/proc/stat irq + softirq), charged to no process. */
  irqPerExecutionMs?: number;
  /** Of that, the kernel's own threads (kworkers, ksoftirqd…). */
  kernelThreadsPerExecutionMs?: number;
  /** Busy share of all cores over the windows (0–1). */
  busyShare: number;
}

/** Cumulative CPU counters (ms) of the components to account for, by name. */
export type CpuCounters = [string, () => number][];

/** Sums CPU deltas of several counters over several windows, then reports them per execution. */
export class CpuAccountant {
  private readonly totals = new Map<string, number>();
  private machineMs = 0;
  private irqMs = 0;
  private kernelMs = 0;
  private windowMs = 0;
  private executions = 0;
  private start: { values: number[]; machine: number; irq: number; kernel: number; at: number } | null = null;

  constructor(
    private readonly counters: CpuCounters,
    private readonly cores: number,
  ) {}

  private read(): number[] {
    return this.counters.map(([, read]) => {
      try {
        return read();
      } catch {
        return Number.NaN; // the process is gone
      }
    });
  }

  /** The measuring window opens. */
  open(): void {
    this.start = { values: this.read(), machine: machineBusyMs(), irq: machineIrqMs(), kernel: kernelThreadsMs(), at: performance.now() };
  }

  /** The window closes with `executions` completed inside it. */
  close(executions: number): void {
    if (!this.start) throw new Error('close() without open()');
    const values = this.read();
    this.counters.forEach(([name], i) => {
      const delta = (values[i] as number) - (this.start?.values[i] as number);
      this.totals.set(name, (this.totals.get(name) ?? 0) + delta);
    });
    this.machineMs += machineBusyMs() - this.start.machine;
    this.irqMs += machineIrqMs() - this.start.irq;
    this.kernelMs += kernelThreadsMs() - this.start.kernel;
    this.windowMs += performance.now() - this.start.at;
    this.executions += executions;
    this.start = null;
  }

  result(): CpuAccount {
    const n = Math.max(1, this.executions);
    return {
      executions: this.executions,
      perExecutionMs: this.counters.map(([name]) => [name, (this.totals.get(name) ?? Number.NaN) / n]),
      machinePerExecutionMs: this.machineMs / n,
      irqPerExecutionMs: this.irqMs / n,
      kernelThreadsPerExecutionMs: this.kernelMs / n,
      busyShare: this.windowMs > 0 ? this.machineMs / (this.windowMs * this.cores) : Number.NaN,
    };
  }
}

/** Where the CPU went, per execution: each component, what no component explains, and the machine's total. */
export function cpuTable(label: string, account: CpuAccount, cores: number): Table {
  const known = account.perExecutionMs.reduce((sum, [, ms]) => (Number.isFinite(ms) ? sum + ms : sum), 0);
  const share = (ms: number): string => formatPercent(ratio(ms, account.machinePerExecutionMs));
  const rows = account.perExecutionMs.map(([name, ms]) => [name, formatMs(ms), share(ms)]);
  rows.push(['other (kernel, interrupts, processes not listed)', formatMs(account.machinePerExecutionMs - known), share(account.machinePerExecutionMs - known)]);
  for (const [name, ms] of [
    ['of that: interrupts and softirq (/proc/stat)', account.irqPerExecutionMs],
    ["of that: the kernel's own threads (kworkers, ksoftirqd…)", account.kernelThreadsPerExecutionMs],
  ] as const) {
    if (ms !== undefined) rows.push([name, formatMs(ms), share(ms)]);
  }
  rows.push([`all ${cores} cores (/proc/stat), ${formatPercent(account.busyShare)} busy`, formatMs(account.machinePerExecutionMs), '100 %']);
  return { headers: [`${label} (${account.executions} in the windows)`, 'CPU per execution', 'share'], rows };
}
