import type { CorralClient } from '@corral/client';
import type { Stack } from '@corral/devkit';
import type { Registry } from '@corral/registry';
import type { ScenarioId } from '../args';
import type { Cleanup } from '../cleanup';
import type { Table } from '../format';
import type { HttpClient } from '../http';
import type { Plan } from '../plan';
import type { Progress } from '../progress';
import type { TargetCheck } from '../targets';

/** What the harness starts for the scenarios that ask for it, once, before the first of them. */
export type Need = 'naive' | 'stack';

/** What every scenario gets. */
export interface HarnessContext {
  plan: Plan;
  progress: Progress;
  /** Everything a scenario starts and leaves running registers its stop here. */
  cleanup: Cleanup;
  /** The sandbox runtime binary. */
  nodePath: string;
  /** Logical CPUs of the machine. */
  cores: number;
  /** The load generator: node:http with keep-alive connections, loopback only. */
  http: HttpClient;
}

/** What the scenarios that need the running stack get. */
export interface StackParts {
  stack: Stack;
  /** The router's API through @corral/client, over `http`'s connections. */
  corral: CorralClient;
  /** The harness's own connection to the stack's Redis (claims, pool state). */
  registry: Registry;
}

/** The naive express baseline: a server that spawns `node -e <code>` per request. */
export interface NaiveParts {
  naiveUrl: string;
}

/** Which fields of a scenario's context each need brings. */
interface PartsOf {
  naive: keyof NaiveParts;
  stack: keyof StackParts;
}

/** A scenario's context: the harness's, plus the parts of what it declared it needs (a mapped type, so that TS sees more needs give more fields). */
export type ScenarioContext<N extends Need> = HarnessContext & Pick<NaiveParts & StackParts, PartsOf[N]>;

/** Everything of a run that a scenario's report part may refer to. */
export interface RenderEnv {
  cores: number;
  /** Another scenario's result from the same run, when it ran. */
  resultOf<R>(scenario: Scenario<R, Need>): R | undefined;
}

/** A scenario's part of the report, apart from its title and its target checks. */
export interface SectionBody {
  /** How it was measured: paragraphs. */
  method: string[];
  tables: Table[];
  notes: string[];
  /** Tables after the notes (details). */
  extraTables?: Table[];
}

/** One scenario's part of the report. */
export interface Section extends SectionBody {
  id: ScenarioId;
  title: string;
  checks: TargetCheck[];
  /** Share of all cores (0–1) that processes not started by the benchmark used while it ran. */
  othersCpuShare?: number;
}

/**
 * One benchmark scenario, whole: what it needs from the harness, how it measures (`run`, to a
 * plain result), how that result reads in BENCHMARKS.md (`render`) and what it is checked
 * against (`targets`). Methods, not function properties: a list of scenarios of different
 * results is then one array.
 */
export interface Scenario<R, N extends Need = never> {
  id: ScenarioId;
  /** "1. Hello-world latency at low load": the report's heading and the progress line. */
  title: string;
  needs: readonly N[];
  run(ctx: ScenarioContext<N>): Promise<R>;
  render(result: R, env: RenderEnv): SectionBody;
  targets(result: R): TargetCheck[];
}

/** The report part of `scenario` for `result`. */
export function sectionOf<R>(scenario: Scenario<R, Need>, result: R, env: RenderEnv, othersCpuShare?: number): Section {
  return {
    id: scenario.id,
    title: scenario.title,
    ...scenario.render(result, env),
    checks: scenario.targets(result),
    ...(othersCpuShare === undefined ? {} : { othersCpuShare }),
  };
}
