import type { ExecutionLimits, ExecutionResult } from './api';
import { signalNumber } from './compat-signals';
import type { Language } from './program';
import type { Verdict } from './verdicts';

/**
 * Judge0 CE 1.13.x (judge0/judge0: app/enumerations/status.rb, db/languages, app/helpers/config.rb)
 * onto corral: its statuses, the languages this server runs at Judge0's ids, what its
 * configuration is here, and the one table from corral's endings to Judge0's status ids.
 */

/** Judge0's version this API answers as (`GET /about`). */
export const JUDGE0_VERSION = '1.13.1';

/** Judge0's statuses, by id. */
export const JUDGE0_STATUSES = [
  { id: 1, description: 'In Queue' },
  { id: 2, description: 'Processing' },
  { id: 3, description: 'Accepted' },
  { id: 4, description: 'Wrong Answer' },
  { id: 5, description: 'Time Limit Exceeded' },
  { id: 6, description: 'Compilation Error' },
  { id: 7, description: 'Runtime Error (SIGSEGV)' },
  { id: 8, description: 'Runtime Error (SIGXFSZ)' },
  { id: 9, description: 'Runtime Error (SIGFPE)' },
  { id: 10, description: 'Runtime Error (SIGABRT)' },
  { id: 11, description: 'Runtime Error (NZEC)' },
  { id: 12, description: 'Runtime Error (Other)' },
  { id: 13, description: 'Internal Error' },
  { id: 14, description: 'Exec Format Error' },
] as const;

export type Judge0StatusId = (typeof JUDGE0_STATUSES)[number]['id'];
export interface Judge0Status {
  id: Judge0StatusId;
  description: string;
}

export function judge0Status(id: Judge0StatusId): Judge0Status {
  const found = JUDGE0_STATUSES.find((s) => s.id === id) as Judge0Status;
  return { id: found.id, description: found.description };
}

/** Runtime errors by signal, as Judge0 names them (Status.find_runtime_error_by_status_code). */
function runtimeErrorBySignal(signal: string | null): Judge0StatusId {
  switch (signalNumber(signal)) {
    case 11:
      return 7;
    case 25:
      return 8;
    case 8:
      return 9;
    case 6:
      return 10;
    default:
      return 12;
  }
}

/**
 * The one table: a run's corral ending (a verdict when it had expected output) as Judge0's
 * status id. Over the output cap is SIGXFSZ, as isolate's file-size limit on stdout ends it.
 */
export const JUDGE0_STATUS_OF: Readonly<Record<Verdict | 'ok', (r: Pick<ExecutionResult, 'signal'>) => Judge0StatusId>> = {
  ok: () => 3,
  accepted: () => 3,
  wrong_answer: () => 4,
  timeout: () => 5,
  cpu_limit: () => 5,
  memory_limit: (r) => runtimeErrorBySignal(r.signal ?? 'SIGKILL'),
  output_limit: () => 8,
  error: (r) => (r.signal ? runtimeErrorBySignal(r.signal) : 11),
};

/** isolate's message for an ending (Judge0's `message`), null for a clean exit. */
export function isolateMessage(r: Pick<ExecutionResult, 'status' | 'signal' | 'exitCode'>): string | null {
  if (r.status === 'timeout') return 'Time limit exceeded (wall clock)';
  if (r.status === 'cpu_limit') return 'Time limit exceeded';
  if (r.signal) return `Caught fatal signal ${signalNumber(r.signal) ?? r.signal}`;
  if (r.status === 'output_limit') return 'Caught fatal signal 25';
  if (r.exitCode) return `Exited with error status ${r.exitCode}`;
  return null;
}

/** Judge0's language ids this server answers, and which corral language each is. */
export const JUDGE0_LANGUAGE_IDS: Readonly<Record<number, Language>> = { 63: 'javascript', 93: 'javascript', 74: 'typescript', 94: 'typescript' };

/** `GET /languages/{id}`: Judge0's LanguageSerializer. */
export interface Judge0Language {
  id: number;
  name: string;
  is_archived: boolean;
  source_file: string;
  compile_cmd: string | null;
  run_cmd: string;
}

/** The source file a Judge0 submission becomes, per language. */
export const JUDGE0_SOURCE_FILES: Readonly<Record<Language, string>> = { javascript: 'script.js', typescript: 'script.ts' };

/** The languages, named with the sandbox runtime's real version (`24.11.1`; null while no host is up). */
export function judge0Languages(version: string | null): Judge0Language[] {
  const node = version ? `Node.js ${version}` : 'Node.js';
  const names: Record<Language, string> = { javascript: `JavaScript (${node})`, typescript: `TypeScript (${node}, types stripped)` };
  return Object.entries(JUDGE0_LANGUAGE_IDS).map(([id, language]) => ({
    id: Number(id),
    name: names[language],
    is_archived: false,
    source_file: JUDGE0_SOURCE_FILES[language],
    compile_cmd: null,
    run_cmd: `node ${JUDGE0_SOURCE_FILES[language]}`,
  }));
}

/** What this server's configuration is in Judge0's terms (`GET /config_info`), from corral's limits. */
export interface Judge0Config {
  enable_wait_result: boolean;
  enable_callbacks: boolean;
  max_queue_size: number;
  cpu_time_limit: number;
  max_cpu_time_limit: number;
  cpu_extra_time: number;
  max_cpu_extra_time: number;
  wall_time_limit: number;
  max_wall_time_limit: number;
  /** KB. */
  memory_limit: number;
  max_memory_limit: number;
  stack_limit: number;
  max_stack_limit: number;
  max_processes_and_or_threads: number;
  max_max_processes_and_or_threads: number;
  max_file_size: number;
  max_max_file_size: number;
  number_of_runs: number;
  max_number_of_runs: number;
  max_submission_batch_size: number;
  [other: string]: unknown;
}

/** Judge0's defaults where corral has nothing to say (isolate's stack and file limits, runs), kept as Judge0 ships them. */
const JUDGE0_ONLY = { stack_limit: 64000, max_stack_limit: 128000, max_processes_and_or_threads: 60, max_max_processes_and_or_threads: 120, max_file_size: 1024, max_max_file_size: 4096, number_of_runs: 1, max_number_of_runs: 20 };

export function judge0Config(limits: ExecutionLimits, options: { maxBatch: number; maxQueue: number; callbacks: boolean; callbackTries: number; callbackTimeoutS: number }): Judge0Config {
  const seconds = (ms: number): number => ms / 1000;
  return {
    maintenance_mode: false,
    enable_wait_result: true,
    enable_compiler_options: false,
    allowed_languages_for_compile_options: [],
    enable_command_line_arguments: true,
    enable_submission_delete: false,
    enable_callbacks: options.callbacks,
    callbacks_max_tries: options.callbackTries,
    callbacks_timeout: options.callbackTimeoutS,
    enable_additional_files: false,
    max_queue_size: options.maxQueue,
    cpu_time_limit: seconds(Math.min(limits.defaultTimeoutMs, limits.maxCpuMs)),
    max_cpu_time_limit: seconds(limits.maxCpuMs),
    cpu_extra_time: 0,
    max_cpu_extra_time: 5,
    wall_time_limit: seconds(limits.defaultTimeoutMs),
    max_wall_time_limit: seconds(limits.maxTimeoutMs),
    memory_limit: limits.defaultMemoryMb * 1024,
    max_memory_limit: limits.maxMemoryMb * 1024,
    ...JUDGE0_ONLY,
    enable_per_process_and_thread_time_limit: false,
    allow_enable_per_process_and_thread_time_limit: true,
    enable_per_process_and_thread_memory_limit: false,
    allow_enable_per_process_and_thread_memory_limit: true,
    redirect_stderr_to_stdout: false,
    max_extract_size: 0,
    enable_batched_submissions: true,
    max_submission_batch_size: options.maxBatch,
    submission_cache_duration: 0,
    use_docs_as_homepage: false,
    allow_enable_network: false,
    enable_network: false,
  };
}
