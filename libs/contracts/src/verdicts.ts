import type { ExecutionResult } from './api';
import type { ErrorCode } from './errors';
import type { ExecutionStatus } from './status';

/**
 * How a test's output is compared with its `expected` output:
 * - `exact`: byte for byte;
 * - `trim` (the default, as Judge0 compares): trailing whitespace of every line and trailing
 *   empty lines ignored (`\r\n` and `\n` alike);
 * - `tokens`: the same whitespace-separated tokens;
 * - `{ float: tolerance }`: the same tokens, where two numbers are equal when their difference
 *   is at most `tolerance`, absolutely or relative to the expected one (as testlib's checkers do).
 */
export type Compare = 'exact' | 'trim' | 'tokens' | { float: number };

export const COMPARE_MODES = ['exact', 'trim', 'tokens'] as const;
export const DEFAULT_COMPARE: Compare = 'trim';

/** A test's verdict: `accepted`, `wrong_answer`, or how its run ended when that was not `ok`. */
export type Verdict = 'accepted' | 'wrong_answer' | Exclude<ExecutionStatus, 'ok'>;

/** What a test may end as: a verdict (with `expected`), an execution status (without), skipped, or not run at all. */
export type TestStatus = Verdict | ExecutionStatus | 'skipped' | 'not_run';

/** One test's answer: its index and everything an execution answers, `status` being the verdict. */
export type TestResult =
  | ({ index: number; status: Verdict | ExecutionStatus } & Omit<ExecutionResult, 'status'>)
  /** `stopOnFailure`: not started once a test before it had failed. */
  | { index: number; status: 'skipped' }
  /** The service could not run it (no slot within the deadline, its worker failed twice…): the error says why. */
  | { index: number; status: 'not_run'; error: { code: ErrorCode; message: string } };

export interface TestsSummary {
  total: number;
  accepted: number;
  /** Tests that ran, or could not run, and did not pass. */
  failed: number;
  /** Tests `stopOnFailure` did not start. */
  skipped: number;
  /** The first failing test's status (by index), or `accepted` when none failed. */
  status: TestStatus | 'accepted';
}

/** The answer to a submission with `tests`. */
export interface TestsResult {
  id: string;
  tests: TestResult[];
  summary: TestsSummary;
}

function trimmedLines(text: string): string[] {
  const lines = text.split('\n').map((line) => line.replace(/\s+$/u, ''));
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function tokens(text: string): string[] {
  return text.split(/\s+/u).filter((t) => t.length > 0);
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/u;

function closeEnough(actual: string, expected: string, tolerance: number): boolean {
  if (actual === expected) return true;
  if (!NUMBER.test(actual) || !NUMBER.test(expected)) return false;
  const a = Number(actual);
  const e = Number(expected);
  const diff = Math.abs(a - e);
  return diff <= tolerance || diff <= tolerance * Math.abs(e);
}

/** True when `actual` output matches `expected` under `compare`. */
export function outputMatches(actual: string, expected: string, compare: Compare): boolean {
  if (compare === 'exact') return actual === expected;
  if (compare === 'trim') {
    const a = trimmedLines(actual);
    const e = trimmedLines(expected);
    return a.length === e.length && a.every((line, i) => line === e[i]);
  }
  const a = tokens(actual);
  const e = tokens(expected);
  if (a.length !== e.length) return false;
  if (compare === 'tokens') return a.every((t, i) => t === e[i]);
  return a.every((t, i) => closeEnough(t, e[i] as string, compare.float));
}

/** A test's status from its run: a verdict when it has `expected`, else the run's own status. */
export function testStatus(result: Pick<ExecutionResult, 'status' | 'stdout' | 'truncated'>, expected: string | null, compare: Compare): Verdict | ExecutionStatus {
  if (expected === null) return result.status;
  if (result.status !== 'ok') return result.status;
  return !result.truncated && outputMatches(result.stdout, expected, compare) ? 'accepted' : 'wrong_answer';
}

/** True for the statuses that count as passed: `accepted`, or `ok` for a test without `expected`. */
export function testPassed(status: TestStatus): boolean {
  return status === 'accepted' || status === 'ok';
}

/** Folds test results (in index order) into the summary. */
export function summarizeTests(results: readonly TestResult[]): TestsSummary {
  const sorted = [...results].sort((a, b) => a.index - b.index);
  const accepted = sorted.filter((r) => testPassed(r.status)).length;
  const skipped = sorted.filter((r) => r.status === 'skipped').length;
  // Tests start in index order, so a skipped test never comes before the failure that stopped them.
  const firstFailed = sorted.find((r) => !testPassed(r.status));
  return { total: sorted.length, accepted, failed: sorted.length - accepted - skipped, skipped, status: firstFailed ? firstFailed.status : 'accepted' };
}
