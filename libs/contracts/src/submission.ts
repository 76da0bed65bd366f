import { parseExecutionRequest, REQUEST_FIELDS, type ExecutionLimits, type ExecutionRequest, type ExecutionResult, type Job } from './api';
import { CorralError, type ErrorCode } from './errors';
import { COMPARE_MODES, DEFAULT_COMPARE, type Compare, type TestsResult } from './verdicts';

/** One test case as a client sends it: its input, and the output it must give. */
export interface TestCaseRequest {
  stdin?: string;
  args?: string[];
  /** Without it the test has the usual statuses; with it, `accepted` or `wrong_answer`. */
  expected?: string;
}

/** `POST /v1/executions`: a program, and how to run and answer it. */
export interface SubmissionRequest extends ExecutionRequest {
  /** Run the program once per test, each in a fresh sandbox of its own. */
  tests?: TestCaseRequest[];
  compare?: Compare;
  /** Once a test fails, tests not yet started are `skipped`. */
  stopOnFailure?: boolean;
  /** `false`: answer 202 at once and run it in the background (`GET /v1/executions/{id}`). */
  wait?: boolean;
  /** POSTed the final record, signed (`X-Corral-Signature`). */
  callbackUrl?: string;
}

export interface TestCase {
  /** The test's own, or the submission's when the test has none. */
  stdin: string;
  args: string[];
  expected: string | null;
}

/** A validated submission: the program as a job, and what to do with it. */
export interface Submission {
  job: Job;
  /** Null: one execution; else one per test (each test's stdin and args replace the job's). */
  tests: TestCase[] | null;
  compare: Compare;
  stopOnFailure: boolean;
  wait: boolean;
  callbackUrl: string | null;
}

/** What a submission's final answer is: one execution's result, or the tests' verdicts. */
export type SubmissionResult = ExecutionResult | TestsResult;

export const SUBMISSION_FIELDS = ['tests', 'compare', 'stopOnFailure', 'wait', 'callbackUrl'] as const;
const SUBMISSION_ALLOWED: readonly string[] = [...REQUEST_FIELDS, ...SUBMISSION_FIELDS];

export interface SubmissionLimits extends ExecutionLimits {
  maxTests: number;
  /** Members of one batch. */
  maxBatch: number;
}

export const DEFAULT_SUBMISSION_LIMITS = { maxTests: 256, maxBatch: 100 } as const;

/** Where an execution kept in the background is. */
export const EXECUTION_STATES = ['queued', 'running', 'done', 'cancelled'] as const;
export type ExecutionState = (typeof EXECUTION_STATES)[number];

/** One attempt to deliver a webhook. */
export interface DeliveryAttempt {
  attempt: number;
  at: string;
  /** The receiver's HTTP status; null when there was no answer. */
  httpStatus: number | null;
  ok: boolean;
  /** Why it failed, when it did (a connection error, a refused address, a timeout). */
  error?: string;
  durationMs: number;
}

/** The webhook of one execution, as `GET /v1/executions/{id}` shows it. */
export interface DeliveryRecord {
  url: string;
  /** Sent as `Idempotency-Key` with every attempt: the receiver's way to see a retry. */
  deliveryId: string;
  state: 'pending' | 'delivered' | 'failed';
  attempts: DeliveryAttempt[];
}

/** `GET /v1/executions/{id}`: an execution answered 202 (or delivered by webhook). */
export interface ExecutionRecord {
  id: string;
  state: ExecutionState;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  /** How many times it was started: more than one when the worker or router running it died. */
  attempts: number;
  /** When `done`: the answer. */
  result?: SubmissionResult;
  /** When `done` but it could not be run (it kept failing, or its API key was removed). */
  error?: { code: ErrorCode; message: string };
  webhook?: DeliveryRecord;
  /** The batch it belongs to. */
  batchId?: string;
}

/** `POST /v1/batches` 202 answer. */
export interface BatchAccepted {
  id: string;
  executions: string[];
}

/** `GET /v1/batches/{id}`. */
export interface BatchRecord {
  id: string;
  createdAt: string;
  /** Every member in the order sent. */
  executions: ExecutionRecord[];
  /** Counts of the members by state. */
  states: Record<ExecutionState, number>;
}

/** An execution or batch id as corral makes them (UUIDs). */
export const ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/u;

function parseCompare(value: unknown, problems: string[]): Compare {
  if (value === undefined) return DEFAULT_COMPARE;
  if (typeof value === 'string' && (COMPARE_MODES as readonly string[]).includes(value)) return value as Compare;
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 1 && 'float' in value) {
    const tolerance = (value as { float: unknown }).float;
    if (typeof tolerance === 'number' && Number.isFinite(tolerance) && tolerance > 0) return { float: tolerance };
    problems.push('compare.float must be a finite positive number (the tolerance)');
    return DEFAULT_COMPARE;
  }
  problems.push(`compare must be one of ${COMPARE_MODES.map((m) => `"${m}"`).join(', ')} or { "float": tolerance }`);
  return DEFAULT_COMPARE;
}

type TestCaseInput = { stdin: string | null; args: string[] | null; expected: string | null };

function parseTests(value: unknown, limits: SubmissionLimits, problems: string[]): TestCaseInput[] | null {
  if (value === undefined) return null;
  if (!Array.isArray(value) || value.length === 0) {
    problems.push('tests must be a non-empty array of { stdin?, args?, expected? }');
    return null;
  }
  if (value.length > limits.maxTests) throw new CorralError('payload_too_large', `${value.length} tests; the limit is ${limits.maxTests}.`);
  const tests: TestCaseInput[] = [];
  for (const [i, raw] of value.entries()) {
    const at = `tests[${i}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      problems.push(`${at} must be an object`);
      continue;
    }
    const test = raw as Record<string, unknown>;
    const extra = Object.keys(test).filter((k) => !['stdin', 'args', 'expected'].includes(k));
    if (extra.length > 0) problems.push(`${at} has unknown fields (allowed: stdin, args, expected)`);
    const { stdin = null, args = null, expected = null } = test;
    if (stdin !== null && typeof stdin !== 'string') problems.push(`${at}.stdin must be a string`);
    else if (stdin !== null && Buffer.byteLength(stdin) > limits.maxStdinBytes) throw new CorralError('payload_too_large', `${at}.stdin is over ${limits.maxStdinBytes} bytes.`);
    if (args !== null && (!Array.isArray(args) || !args.every((a) => typeof a === 'string'))) problems.push(`${at}.args must be an array of strings`);
    else if (Array.isArray(args) && (args.length > limits.maxArgs || args.some((a: string) => Buffer.byteLength(a) > limits.maxArgBytes || a.includes('\0'))))
      problems.push(`${at}.args: at most ${limits.maxArgs} args of at most ${limits.maxArgBytes} bytes, no NUL`);
    if (expected !== null && typeof expected !== 'string') problems.push(`${at}.expected must be a string`);
    else if (typeof expected === 'string' && Buffer.byteLength(expected) > limits.maxStdinBytes)
      throw new CorralError('payload_too_large', `${at}.expected is over ${limits.maxStdinBytes} bytes.`);
    tests.push({ stdin: stdin as string | null, args: args as string[] | null, expected: expected as string | null });
  }
  return tests;
}

function parseCallbackUrl(value: unknown, problems: string[]): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length > 2048) {
    problems.push('callbackUrl must be an http(s) URL of at most 2048 characters');
    return null;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    problems.push('callbackUrl is not a URL');
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') problems.push('callbackUrl must be http or https');
  else if (url.username || url.password) problems.push('callbackUrl must not hold credentials (the signature authenticates the call)');
  return url.toString();
}

/**
 * Validates a submission: the program (as `parseExecutionRequest`), its tests, and how it is
 * answered. Nothing about the callback's destination is checked here (that needs DNS).
 * @throws CorralError invalid_request (400) or payload_too_large (413)
 */
export function parseSubmission(body: unknown, limits: SubmissionLimits): Submission {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new CorralError('invalid_request', 'The request body must be a JSON object.');
  const record = body as Record<string, unknown>;
  const problems: string[] = [];
  const tests = parseTests(record['tests'], limits, problems);
  const compare = parseCompare(record['compare'], problems);
  const { stopOnFailure = false, wait = true } = record;
  if (typeof stopOnFailure !== 'boolean') problems.push('stopOnFailure must be true or false');
  if (typeof wait !== 'boolean') problems.push('wait must be true or false');
  const callbackUrl = parseCallbackUrl(record['callbackUrl'], problems);
  let job: Job | null = null;
  try {
    // The body itself, not a copy without the submission's fields: a body of 250 000 unknown keys
    // took the router's thread 265 ms to copy (security-e2e clients.test.ts sends one).
    job = parseExecutionRequest(record, limits, SUBMISSION_ALLOWED);
  } catch (err) {
    if (!(err instanceof CorralError) || err.code !== 'invalid_request' || problems.length === 0) throw err;
    problems.unshift(...((err.details as { problems?: string[] } | undefined)?.problems ?? [err.message]));
  }
  if (problems.length > 0 || !job) throw new CorralError('invalid_request', `Invalid request: ${problems.join('; ')}.`, { problems });
  const parsed: Job = job;
  return {
    job,
    tests: tests?.map((t) => ({ stdin: t.stdin ?? parsed.stdin, args: t.args ?? parsed.args, expected: t.expected })) ?? null,
    compare,
    stopOnFailure: stopOnFailure as boolean,
    wait: wait as boolean,
    callbackUrl,
  };
}

/** The job one test runs: the program with the test's stdin and args. */
export function testJob(job: Job, test: TestCase): Job {
  return { ...job, stdin: test.stdin, args: test.args };
}

/** How many executions a submission stands for (what its API key's rate counts). */
export function executionCount(submission: Pick<Submission, 'tests'>): number {
  return submission.tests?.length ?? 1;
}
