/** How much each scenario does, in the default run and in `--quick`. */
export interface Plan {
  /** Slots of the stack every HTTP scenario runs against. */
  slots: number;
  latency: { warmup: number; requests: number; blockSize: number; pacedRequests: number; thinkMs: number };
  throughput: { clients: number; bareConcurrency: number; rounds: number; roundSeconds: number; warmupSeconds: number };
  boot: { samples: number; sampleAfterMs: number };
  overhead: { warmup: number; requests: number };
  mixed: { concurrency: number; thinkMs: number; requests: number; hostileEvery: number; hostileCpuMs: number };
  watchdog: { idle: number; busy: number; seconds: number; rounds: number };
  netprov: { count: number; rounds: number };
  output: { jobs: number; helloRequests: number };
  programs: { requests: number; thinkMs: number };
  judging: { singles: number; thinkMs: number; tests: number; asyncJobs: number; pollMs: number };
  cli: { requests: number; thinkMs: number };
  streaming: { requests: number; thinkMs: number };
  compat: { warmup: number; requests: number };
}

/**
 * The default run stays within a few minutes on a 2-core machine; `quick` is a smoke test.
 * The bare spawn rate keeps one `node -e 0` per core running. The mixed load's clients pause
 * between requests: every execution costs a sandbox boot, so clients sending back to back
 * would saturate a small machine, and a saturated clean run hides what hostile programs do.
 */
export function makePlan(quick: boolean, cores: number): Plan {
  const bareConcurrency = Math.max(1, cores);
  if (quick) {
    return {
      slots: 4,
      latency: { warmup: 10, requests: 40, blockSize: 20, pacedRequests: 20, thinkMs: 100 },
      throughput: { clients: 8, bareConcurrency, rounds: 1, roundSeconds: 2, warmupSeconds: 0.5 },
      boot: { samples: 3, sampleAfterMs: 300 },
      overhead: { warmup: 5, requests: 30 },
      mixed: { concurrency: 2, thinkMs: 200, requests: 60, hostileEvery: 10, hostileCpuMs: 200 },
      watchdog: { idle: 200, busy: 3, seconds: 5, rounds: 2 },
      netprov: { count: 1000, rounds: 1 },
      output: { jobs: 2, helloRequests: 20 },
      programs: { requests: 5, thinkMs: 100 },
      judging: { singles: 20, thinkMs: 50, tests: 50, asyncJobs: 5, pollMs: 10 },
      cli: { requests: 10, thinkMs: 50 },
      streaming: { requests: 10, thinkMs: 50 },
      compat: { warmup: 5, requests: 30 },
    };
  }
  return {
    slots: 4,
    latency: { warmup: 30, requests: 300, blockSize: 50, pacedRequests: 150, thinkMs: 100 },
    throughput: { clients: 8, bareConcurrency, rounds: 3, roundSeconds: 4, warmupSeconds: 1 },
    boot: { samples: 15, sampleAfterMs: 300 },
    overhead: { warmup: 20, requests: 150 },
    mixed: { concurrency: 2, thinkMs: 200, requests: 200, hostileEvery: 10, hostileCpuMs: 200 },
    watchdog: { idle: 1000, busy: 3, seconds: 20, rounds: 3 },
    netprov: { count: 1000, rounds: 3 },
    output: { jobs: 5, helloRequests: 100 },
    programs: { requests: 50, thinkMs: 100 },
    judging: { singles: 100, thinkMs: 50, tests: 200, asyncJobs: 30, pollMs: 10 },
    cli: { requests: 40, thinkMs: 50 },
    streaming: { requests: 50, thinkMs: 50 },
    compat: { warmup: 20, requests: 150 },
  };
}
