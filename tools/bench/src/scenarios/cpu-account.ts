import { performance } from 'node:perf_hooks';
import { kernelThreadsMs, machineBusyMs, machineIrqMs } from '../procfs';
import type { CpuAccount } from '../results';

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
