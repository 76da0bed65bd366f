/** Command-line options of `npm run bench`. */

export const SCENARIO_IDS = ['latency', 'throughput', 'boot', 'overhead', 'mixed', 'watchdog', 'netprov', 'output', 'programs', 'judging', 'cli', 'streaming', 'compat'] as const;
export type ScenarioId = (typeof SCENARIO_IDS)[number];

export interface BenchArgs {
  quick: boolean;
  /** Scenarios to run, in the harness's order; all when none was named. */
  only: ScenarioId[];
  /** Where the report goes; undefined: BENCHMARKS.md for a full run, tmp/bench/BENCHMARKS.md otherwise. */
  out: string | undefined;
  help: boolean;
}

export const USAGE = `usage: npm run bench [-- [--quick] [--only ${SCENARIO_IDS.join(',')}] [--out FILE]]

  --quick         fewer requests and shorter rounds: a smoke test (about half a minute)
  --only LIST     run only these scenarios (comma-separated, by name or number 1-9)
  --out FILE      write the report here (default: BENCHMARKS.md for a full run of every
                  scenario, tmp/bench/BENCHMARKS.md for a quick or partial run)
  --help          this text`;

function scenarioNamed(text: string): ScenarioId {
  const trimmed = text.trim();
  if (/^[1-9]$/.test(trimmed)) return SCENARIO_IDS[Number(trimmed) - 1] as ScenarioId;
  const found = SCENARIO_IDS.find((id) => id === trimmed);
  if (!found) throw new Error(`unknown scenario "${trimmed}" (expected one of ${SCENARIO_IDS.join(', ')} or 1-9)`);
  return found;
}

/** @throws Error with a message fit for the user on unknown or incomplete options */
export function parseArgs(argv: readonly string[]): BenchArgs {
  const args: BenchArgs = { quick: false, only: [...SCENARIO_IDS], out: undefined, help: false };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    const [name, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new Error(`${name} needs a value`);
      return v;
    };
    switch (name) {
      case '--quick':
        args.quick = true;
        break;
      case '--only': {
        const wanted = new Set(value().split(',').filter((s) => s.trim() !== '').map(scenarioNamed));
        args.only = SCENARIO_IDS.filter((id) => wanted.has(id));
        if (args.only.length === 0) throw new Error('--only needs at least one scenario');
        break;
      }
      case '--out':
        args.out = value();
        break;
      case '--help':
      case '-h':
        args.help = true;
        break;
      default:
        throw new Error(`unknown option ${arg}`);
    }
  }
  return args;
}

/** Whether this run is the full one that belongs in BENCHMARKS.md. */
export function isFullRun(args: BenchArgs): boolean {
  return !args.quick && args.only.length === SCENARIO_IDS.length;
}
