import type { Summary } from './stats';

/** What each scenario measured: plain data, turned into report sections by sections.ts. */

export interface LatencyResult {
  requests: number;
  warmup: number;
  /** Requests per block; corral and naive blocks alternate. */
  blockSize: number;
  corral: Summary;
  naive: Summary;
  /** Answers that were not a 200 with the expected output (not in the percentiles). */
  corralErrors: number;
  naiveErrors: number;
  /**
   * The same one client with a pause after each answer, so that the machine keeps up: back to
   * back, every execution's replacement boot competes with the next request for the cores.
   */
  paced: { thinkMs: number; requests: number; corral: Summary; naive: Summary } | null;
}

export interface ThroughputResult {
  slots: number;
  clients: number;
  /** `node -e 0` processes kept running at once for the bare rate. */
  bareConcurrency: number;
  rounds: number;
  roundSeconds: number;
  warmupSeconds: number;
  /** Executions answered `ok` per second, one figure per round. */
  corralRates: number[];
  /** `node -e 0` completions per second, one figure per round. */
  bareRates: number[];
  /** Answers other than 200 `ok`, by HTTP status or execution status. */
  corralErrors: Record<string, number>;
  /** Where the CPU went inside the measuring windows of all rounds. */
  corralCpu: CpuAccount;
  bareCpu: CpuAccount;
}

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

export interface BootVariantResult {
  label: string;
  /** What is different about this variant (its Sandbox options). */
  description: string;
  samples: number;
  /** From `new Sandbox()` to `ready`. */
  readyMs: Summary;
  /** CPU of every thread of the sandbox process when sampled (booted, waiting for its job). */
  cpuMs: Summary;
  /** The main thread alone (what /proc/<pid>/schedstat and Sandbox.cpuUsedMs() see). */
  mainThreadCpuMs: Summary;
  rssKb: Summary;
  rssAnonKb: Summary;
  rssFileKb: Summary;
  pssKb: Summary | null;
  /** The processes between the harness and the runtime: corral-spawn, and a jail's own (bubblewrap) when there is one. */
  launcherRssKb: Summary | null;
  /** Their CPU when sampled (live processes only: one that set up the jail and ended is not counted). */
  launcherCpuMs: Summary | null;
}

export interface BootResult {
  samples: number;
  /** Both the warm sandbox and the idle bare node are sampled this long after they were started. */
  sampleAfterMs: number;
  variants: BootVariantResult[];
  /** `node -e 0`: whole-life CPU (user + system, every thread, from wait4) and wall time. */
  bareCpuMs: Summary;
  bareWallMs: Summary;
  bareMaxRssKb: Summary;
  /** Idle `node -e "setInterval(()=>{},1e9)"`, sampled like the sandbox. */
  idleCpuMs: Summary;
  idleRssKb: Summary;
  idleRssAnonKb: Summary;
  idleRssFileKb: Summary;
  idlePssKb: Summary | null;
}

export interface OverheadResult {
  requests: number;
  warmup: number;
  /** POST to the worker on the slot's address, with a lease claimed beforehand (claim not timed). */
  direct: Summary;
  /** The same request through the router (claim, proxy and all). */
  router: Summary;
  /** The harness's own registry.queue.claim round trip before each direct request. */
  claimMs: Summary;
  /** One bare HTTP hop: the same client to an express server in another process that answers at once. */
  hop?: Summary;
  /** router[i] − direct[i] over the interleaved pairs. */
  pairedDiff: Summary;
  errors: number;
}

export interface MixedResult {
  concurrency: number;
  /** Each client's pause between two requests. */
  thinkMs: number;
  /** Requests per run (clean and mixed send the same number). */
  requests: number;
  /** Every this-many-th request of the mixed run is hostile. */
  hostileEvery: number;
  hostileCpuMs: number;
  /** Latency of the good (hello-world) requests. */
  clean: Summary;
  mixed: Summary;
  /** How the hostile requests ended: execution status (or HTTP status) → count. */
  hostileOutcomes: Record<string, number>;
  hostileMs: Summary | null;
  /** Good requests that did not come back 200 `ok`, per run. */
  cleanErrors: number;
  mixedErrors: number;
  /** Requests answered per second over each run (all of them, hostile included). */
  cleanRate: number;
  mixedRate: number;
}
