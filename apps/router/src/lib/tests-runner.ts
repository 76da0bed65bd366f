import { summarizeTests, testJob, testPassed, testStatus, type Job, type Submission, type TestResult, type TestsResult } from '@corral/contracts';
import { runOne, type EngineDeps, type RunOptions, type RunOutcome } from './engine';

/** How many of a submission's tests run at once: at most the configured number, and one slot always left to others. */
export function testParallelism(configured: number, liveSlots: number, tests: number): number {
  return Math.max(1, Math.min(configured, tests, liveSlots - 1));
}

/** One test ended: its result (for the metrics' verdicts, and live output later). */
export type TestListener = (result: TestResult) => void;

/** How one test's execution is run: `runOne` by default; a live one streams its output (SSE). */
export type TestRun = (job: Job, index: number, options: RunOptions) => Promise<RunOutcome>;

/**
 * Runs every test of a submission, each as an execution of its own in a fresh sandbox, a few
 * at a time: a submission holds at most `parallelism` slots, and (through the engine's reserve)
 * claims one only while another stays idle for clients' own requests, so one submission's
 * hundred tests never make a client wait for a slot. Tests start in index order; with `stopOnFailure`, once one fails those not yet started
 * are `skipped`. Resolves with every test's result, or null when it was stopped (its signal).
 */
export async function runTests(
  id: string,
  submission: Submission & { tests: NonNullable<Submission['tests']> },
  deps: EngineDeps,
  options: RunOptions & { parallelism: number; onTest?: TestListener; run?: TestRun },
): Promise<TestsResult | null> {
  const { tests, compare, stopOnFailure, job } = submission;
  const results: TestResult[] = new Array(tests.length);
  let next = 0;
  let failed = false;
  let stopped = false;
  const lane = async (): Promise<void> => {
    while (next < tests.length && !stopped) {
      const index = next;
      next += 1;
      if (stopOnFailure && failed) {
        results[index] = { index, status: 'skipped' };
        continue;
      }
      const test = tests[index] as (typeof tests)[number];
      const testOptions = { ...options, log: options.log.child({ test: index }) };
      const outcome = options.run ? await options.run(testJob(job, test), index, testOptions) : await runOne(testJob(job, test), deps, testOptions);
      let result: TestResult;
      if (outcome.kind === 'stopped') {
        stopped = true;
        return;
      }
      if (outcome.kind === 'not_run') result = { index, status: 'not_run', error: outcome.error };
      else result = { index, ...outcome.result, status: testStatus(outcome.result, test.expected, compare) };
      results[index] = result;
      if (!testPassed(result.status)) failed = true;
      options.onTest?.(result);
    }
  };
  await Promise.all(Array.from({ length: options.parallelism }, lane));
  if (stopped) return null;
  return { id, tests: results, summary: summarizeTests(results) };
}
