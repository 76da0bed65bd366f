import type { ExecutionResult } from './api';
import { isolateMessage, JUDGE0_STATUS_OF, judge0Status, type Judge0Language, type Judge0StatusId } from './compat-judge0';
import type { Judge0Echo } from './compat-judge0-request';
import { signalNumber } from './compat-signals';
import type { ErrorCode } from './errors';
import type { ExecutionRecord, ExecutionState, SubmissionResult } from './submission';
import type { Verdict } from './verdicts';

/** Every attribute of Judge0's SubmissionSerializer, in its order: what `fields=*` gives. */
export const JUDGE0_FIELDS = [
  'source_code', 'language_id', 'stdin', 'expected_output', 'stdout', 'status_id', 'created_at', 'finished_at', 'time', 'memory', 'stderr', 'token',
  'number_of_runs', 'cpu_time_limit', 'cpu_extra_time', 'wall_time_limit', 'memory_limit', 'stack_limit', 'max_processes_and_or_threads',
  'enable_per_process_and_thread_time_limit', 'enable_per_process_and_thread_memory_limit', 'max_file_size', 'compile_output', 'exit_code',
  'exit_signal', 'message', 'wall_time', 'compiler_options', 'command_line_arguments', 'redirect_stderr_to_stdout', 'callback_url',
  'additional_files', 'enable_network', 'started_at', 'queued_at', 'updated_at', 'queue_host', 'execution_host', 'status', 'language',
] as const;
export type Judge0Field = (typeof JUDGE0_FIELDS)[number];

/** What Judge0 answers when `fields` is not given. */
export const JUDGE0_DEFAULT_FIELDS: readonly Judge0Field[] = ['token', 'time', 'memory', 'stdout', 'stderr', 'compile_output', 'message', 'status'];

/** The text attributes, base64 encoded with `base64_encoded=true`. */
const TEXT_FIELDS = new Set<string>(['source_code', 'stdin', 'expected_output', 'stdout', 'stderr', 'compile_output', 'message']);

/** `?fields=` as Judge0 reads it (split on commas, nothing trimmed): the fields, or the invalid ones. */
export function judge0Fields(param: unknown): { fields: readonly Judge0Field[] } | { invalid: string[] } {
  const asked = typeof param === 'string' && param.length > 0 ? param.split(',') : [];
  const invalid = asked.filter((f) => f !== '*' && !(JUDGE0_FIELDS as readonly string[]).includes(f));
  if (invalid.length > 0) return { invalid };
  if (asked.includes('*')) return { fields: JUDGE0_FIELDS };
  return { fields: asked.length > 0 ? JUDGE0_FIELDS.filter((f) => asked.includes(f)) : JUDGE0_DEFAULT_FIELDS };
}

/** Ruby's Base64.encode64: RFC 2045, a newline after every 60 characters and at the end. */
export function rubyBase64(text: string | null): string | null {
  if (text === null) return null;
  const flat = Buffer.from(text, 'utf8').toString('base64');
  return flat.length === 0 ? '' : `${flat.replace(/.{60}/gu, '$&\n').replace(/\n$/u, '')}\n`;
}

/** Judge0's comparison: every line's trailing whitespace, and the text's, dropped (IsolateJob#strip). */
export function judge0Strip(text: string | null): string | null {
  if (text === null) return null;
  return text
    .split('\n')
    .map((line) => line.replace(/[\s\0]+$/u, ''))
    .join('\n')
    .replace(/[\s\0]+$/u, '');
}

/** Seconds as Judge0's decimal columns render them (`"0.031"`, `"0.0"`). */
function decimal(ms: number | null): string | null {
  if (ms === null) return null;
  const text = String(Number((ms / 1000).toFixed(3)));
  return text.includes('.') || text.includes('e') ? text : `${text}.0`;
}

/** A submission as corral knows it: its record (or the answer it waited for) and the Judge0 attributes kept with it. */
export interface Judge0View {
  token: string;
  state: ExecutionState;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  result?: SubmissionResult;
  error?: { code: ErrorCode; message: string };
  echo: Judge0Echo;
}

/** A kept record (as GET /v1/executions/{id} shows it) and its Judge0 attributes, as a view. */
export function judge0View(record: ExecutionRecord, echo: Judge0Echo): Judge0View {
  return {
    token: record.id,
    state: record.state,
    createdAt: record.createdAt,
    ...(record.startedAt ? { startedAt: record.startedAt } : {}),
    ...(record.finishedAt ? { finishedAt: record.finishedAt } : {}),
    ...(record.result ? { result: record.result } : {}),
    ...(record.error ? { error: record.error } : {}),
    echo,
  };
}

type Run = Omit<ExecutionResult, 'status'> & { status: Verdict | 'ok' };

/** The runs that ran (number_of_runs), and why one could not, if one could not. */
function runsOf(result: SubmissionResult): { runs: Run[]; notRun: string | null } {
  if (!('tests' in result)) return { runs: [result as Run], notRun: null };
  const runs: Run[] = [];
  let notRun: string | null = null;
  for (const t of result.tests) {
    if (t.status === 'not_run') notRun ??= t.error.message;
    else if (t.status !== 'skipped') runs.push(t as unknown as Run);
  }
  return { runs, notRun };
}

/** A run's Judge0 status: the table, then Judge0's own rules (over the cpu limit is TLE; expected output compared as it compares). */
function statusOf(run: Run, stdout: string | null, echo: Judge0Echo): { id: Judge0StatusId; message: string | null } {
  const message = isolateMessage({ status: run.status === 'accepted' || run.status === 'wrong_answer' ? 'ok' : run.status, signal: run.signal, exitCode: run.exitCode });
  if (run.status !== 'ok' && run.status !== 'accepted' && run.status !== 'wrong_answer') return { id: JUDGE0_STATUS_OF[run.status](run), message };
  if (echo.cpu_time_limit > 0 && run.cpuMs > echo.cpu_time_limit * 1000) return { id: 5, message: 'Time limit exceeded' };
  if (echo.expected_output === null) return { id: 3, message };
  return { id: judge0Strip(echo.expected_output) === judge0Strip(stdout) ? 3 : 4, message };
}

const nullable = (text: string): string | null => (text === '' ? null : text);

/** Every attribute of a submission, texts as they are. */
export function judge0Attributes(view: Judge0View, languages: readonly Judge0Language[]): Record<Judge0Field, unknown> {
  const { echo } = view;
  const language = languages.find((l) => l.id === echo.language_id);
  let outcome: Record<string, unknown> = { status: judge0Status(view.state === 'queued' ? 1 : 2), stdout: null, stderr: null, message: null, time: null, wall_time: null, memory: null, exit_code: null, exit_signal: null };
  if (view.state === 'cancelled') outcome = { ...outcome, status: judge0Status(13), message: 'Cancelled (DELETE /v1/executions/{token}).' };
  else if (view.state === 'done' && view.error) outcome = { ...outcome, status: judge0Status(13), message: view.error.message };
  else if (view.state === 'done' && view.result) {
    const { runs, notRun } = runsOf(view.result);
    const last = runs[runs.length - 1];
    if (!last) outcome = { ...outcome, status: judge0Status(13), message: notRun ?? 'It could not be run.' };
    else {
      const stdout = nullable(echo.redirect_stderr_to_stdout ? last.stdout + last.stderr : last.stdout);
      const stderr = echo.redirect_stderr_to_stdout ? null : nullable(last.stderr);
      const status = notRun ? { id: 13 as const, message: notRun } : statusOf(last, stdout, echo);
      const average = (of: (r: Run) => number): number => runs.reduce((sum, r) => sum + of(r), 0) / runs.length;
      outcome = {
        status: judge0Status(status.id),
        stdout,
        stderr,
        message: status.message,
        time: decimal(average((r) => r.cpuMs)),
        wall_time: decimal(last.durationMs),
        memory: Math.trunc(average((r) => r.memoryBytes / 1024)),
        exit_code: last.exitCode ?? 0,
        exit_signal: signalNumber(last.signal),
      };
    }
  }
  const status = outcome['status'] as { id: number };
  return {
    ...echo,
    // Decimal columns: rendered as strings of seconds.
    cpu_time_limit: decimal(echo.cpu_time_limit * 1000),
    cpu_extra_time: decimal(echo.cpu_extra_time * 1000),
    wall_time_limit: decimal(echo.wall_time_limit * 1000),
    ...(outcome as Record<string, unknown>),
    status_id: status.id,
    created_at: view.createdAt,
    finished_at: view.finishedAt ?? null,
    token: view.token,
    compile_output: null,
    additional_files: null,
    started_at: view.startedAt ?? null,
    queued_at: view.createdAt,
    updated_at: view.finishedAt ?? view.startedAt ?? view.createdAt,
    queue_host: null,
    execution_host: null,
    language: language ? { id: language.id, name: language.name } : null,
  } as Record<Judge0Field, unknown>;
}

/** The attributes asked for, in Judge0's order, texts base64 encoded (as Ruby encodes) when asked. */
export function judge0Render(view: Judge0View, fields: readonly Judge0Field[], base64: boolean, languages: readonly Judge0Language[]): Record<string, unknown> {
  const all = judge0Attributes(view, languages);
  const out: Record<string, unknown> = {};
  for (const field of JUDGE0_FIELDS) {
    if (!fields.includes(field)) continue;
    const value = all[field];
    out[field] = base64 && TEXT_FIELDS.has(field) ? rubyBase64(value as string | null) : value;
  }
  return out;
}
